//! The treasury pages: a dashboard with charts, the bank lines (import, the
//! unmatched queue and manual matching), payouts (pain.001 batches) and the
//! reconciliation of each imported statement.

use actix_multipart::form::bytes::Bytes as FileBytes;
use actix_multipart::form::text::Text;
use actix_multipart::form::MultipartForm;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{actor, date, html, money, read, refusal, see_other, Layout};
use super::receipt::{spaced_iban, Names};
use super::session::{PageError, Session};
use crate::db::bank as bank_db;
use crate::db::financing as fin_db;
use crate::db::financing::PayoutRow;
use crate::db::log as log_db;
use crate::db::payouts as payouts_db;
use crate::domain::Role;
use crate::domain::{BankLineStatus, BatchStatus, PayoutStatus};
use crate::ledger::LedgerError;
use crate::server::AppState;
use crate::services::log_reads::ReadError;
use crate::services::payout::{ApproveBatch, DeclineBatch, ProposeBatch};
use crate::services::treasury::reconcile::Check;
use crate::services::treasury::{self, ManualMatch, ReconciliationRow};

/// One bar of a chart.
pub struct Bar {
    pub label: String,
    pub amount: String,
    pub y: usize,
    pub width: usize,
}

/// A horizontal bar chart drawn as SVG on the server.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub empty: &'static str,
    pub bars: Vec<Bar>,
    pub height: usize,
}

/// Width of the longest bar, in SVG units.
const BAR_WIDTH_MAX: i64 = 400;

impl Chart {
    fn new(
        id: &'static str,
        title: &'static str,
        empty: &'static str,
        series: &[(String, String, i64)],
    ) -> Chart {
        let largest = series.iter().map(|s| s.2).max().unwrap_or(1).max(1);
        let bars: Vec<Bar> = series
            .iter()
            .take(crate::limits::CHART_BARS_MAX)
            .enumerate()
            .map(|(n, (label, currency, amount))| Bar {
                label: label.clone(),
                amount: money(currency, *amount),
                y: n * 28,
                width: ((amount * BAR_WIDTH_MAX) / largest).max(1) as usize,
            })
            .collect();
        Chart {
            id,
            title,
            empty,
            height: bars.len() * 28 + 4,
            bars,
        }
    }
}

#[derive(Template)]
#[template(path = "treasury_dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub balances: Vec<BalanceView>,
    pub charts: Vec<Chart>,
}

/// The accounts treasury watches, in its words, with the sign that makes
/// their usual balance positive (+1 for what we hold, -1 for what we owe).
const WATCHED_ACCOUNTS: [(&str, &str, i64); 5] = [
    ("bank:main", "In our bank account", 1),
    (
        "unapplied-cash",
        "Received, not yet applied to an invoice or deposit",
        -1,
    ),
    (
        "bank-suspense",
        "Bank movements waiting for an explanation",
        1,
    ),
    (
        "payouts:pending",
        "Owed to suppliers, not yet in a batch",
        -1,
    ),
    (
        "payouts:sent",
        "Instructed to the bank, not yet seen leaving it",
        -1,
    ),
];

/// One balance of the dashboard: what it is, how much, and (for experts,
/// behind a details element) the ledger account.
pub struct BalanceView {
    pub label: String,
    pub amount: String,
    pub account: String,
}

pub async fn dashboard(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let today = state.clock.today();
    let (balances, figures) = read(&state, move |c| {
        let all = log_db::all_balances(c)?;
        let mut balances = Vec::new();
        for (account, label, sign) in WATCHED_ACCOUNTS {
            for b in all.iter().filter(|b| b.account == account) {
                balances.push(BalanceView {
                    label: format!("{label} ({})", b.currency),
                    amount: money(&b.currency, sign * b.balance_minor),
                    account: b.account.clone(),
                });
            }
        }
        Ok::<_, LedgerError>((balances, treasury::dashboard(c, today)?))
    })
    .await?;
    let charts = vec![
        Chart::new(
            "by-retailer",
            "Exposure by retailer (principal outstanding)",
            "No advance is outstanding.",
            &figures.exposure_by_retailer,
        ),
        Chart::new(
            "by-supplier",
            "Exposure by supplier (principal outstanding)",
            "No advance is outstanding.",
            &figures.exposure_by_supplier,
        ),
        Chart::new(
            "ageing",
            "Ageing of outstanding advances",
            "No advance is outstanding.",
            &figures.ageing,
        ),
        Chart::new(
            "settlements",
            "Settlements per day, last 30 days (amount paid on invoices settled)",
            "No invoice was settled in the last 30 days.",
            &figures.settlements_per_day,
        ),
    ];
    html(
        &DashboardPage {
            layout: Layout::new(&session, "Treasury", "/treasury/"),
            balances,
            charts,
        },
        StatusCode::OK,
    )
}

/// An invoice suggested for a credit: its number, supplier, open amount and why.
pub struct SuggestionView {
    pub invoice_id: String,
    pub number: String,
    pub supplier: String,
    pub open: String,
    pub why: &'static str,
}

fn suggestion_view(
    names: &mut Names<'_>,
    suggestion: treasury::Suggestion,
) -> Result<SuggestionView, ReadError> {
    let invoice = suggestion.invoice;
    Ok(SuggestionView {
        why: match (
            suggestion.number_in_text.is_some(),
            suggestion.same_open_amount,
        ) {
            (true, true) => {
                "its number is in the payment text, and its open amount is the payment's"
            }
            (true, false) => "its number is in the payment text",
            (_, false) | (false, true) => "its open amount is the payment's",
        },
        number: invoice.invoice_number.clone(),
        supplier: names.party(&invoice.supplier_id)?,
        open: money(&invoice.currency, invoice.open_minor()),
        invoice_id: invoice.invoice_id.to_string(),
    })
}

pub struct LineView {
    pub line_id: String,
    pub value_date: String,
    pub amount: String,
    pub remittance: String,
    pub references: String,
    pub debtor: String,
    pub suggestions: Vec<SuggestionView>,
    pub rule: String,
    /// For a line in suspense: `payout_ids` (a debit) or `reverses_line_id` (a reversal).
    pub explain_with: &'static str,
    /// For a line in suspense: what it may be, as (value, words).
    pub choices: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "treasury_lines.html")]
pub struct LinesPage {
    pub layout: Layout,
    pub unmatched: Vec<LineView>,
    pub suspense: Vec<LineView>,
    pub recent: Vec<LineView>,
    /// Funders by (id, name), for a credit that is a funder's deposit.
    pub funders: Vec<(String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// What a line in suspense may be: for a debit, the instructed batches (or
/// single payouts) of exactly its amount; for a reversal, the matched credits
/// of its amount. Each as (the form's value, words).
fn suspense_choices(
    c: &mut crate::db::DbConnection,
    line: &bank_db::BankLineRow,
    matched: &[bank_db::BankLineRow],
) -> Result<Vec<(String, String)>, ReadError> {
    let mut choices = Vec::new();
    if line.reversal {
        for credit in matched.iter().filter(|m| {
            m.credit && m.currency == line.currency && m.amount_minor == line.amount_minor
        }) {
            let when = credit
                .value_date
                .or(credit.booking_date)
                .map(date)
                .unwrap_or_default();
            choices.push((
                credit.line_id.to_string(),
                format!(
                    "The credit of {when}, {} from {}",
                    money(&credit.currency, credit.amount_minor),
                    credit.debtor_name.as_deref().unwrap_or("an unnamed payer")
                ),
            ));
        }
        return Ok(choices);
    }
    let sent = payouts_db::payouts_with_status(
        c,
        PayoutStatus::Sent,
        Some(&line.currency),
        crate::limits::TREASURY_PAGE_PAYOUTS_SHOWN,
    )?;
    let mut batches: Vec<(String, Vec<&PayoutRow>)> = Vec::new();
    for payout in &sent {
        let batch = payout
            .batch_id
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default();
        match batches.iter_mut().find(|(id, _)| *id == batch) {
            Some((_, payouts)) => payouts.push(payout),
            None => batches.push((batch, vec![payout])),
        }
    }
    for (batch, payouts) in &batches {
        let total: i64 = payouts.iter().map(|p| p.amount_minor).sum();
        if total == line.amount_minor && payouts.len() > 1 {
            choices.push((
                payouts
                    .iter()
                    .map(|p| p.payout_id.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                format!(
                    "Batch {batch}: {} payouts, {}",
                    payouts.len(),
                    money(&line.currency, total)
                ),
            ));
        }
    }
    let mut names = Names::new(c);
    for payout in sent.iter().filter(|p| p.amount_minor == line.amount_minor) {
        choices.push((
            payout.payout_id.to_string(),
            format!(
                "The payout of {} to {} ({})",
                money(&payout.currency, payout.amount_minor),
                names.party(&payout.party_id)?,
                payout_reason(&mut names, payout)?
            ),
        ));
    }
    Ok(choices)
}

/// How a line was matched, in treasury's words.
fn rule_words(rule: &str, matched_by: Option<&str>) -> String {
    use crate::domain::MatchRule;
    let how = match MatchRule::parse(rule) {
        Some(MatchRule::CreditorReference) => "by its RF reference",
        Some(MatchRule::EndToEndId) => "by its end-to-end id",
        Some(MatchRule::InvoiceNumberAndAmount) => "by the invoice number and amount in its text",
        Some(MatchRule::PaymentInformationId) => "by the payout batch it names",
        Some(MatchRule::References) => "by the references of the credit it takes back",
        Some(MatchRule::Manual) => "by hand",
        None => rule,
    };
    match matched_by {
        Some("system") => format!("Matched automatically {how}"),
        _ => format!("Matched {how}"),
    }
}

fn view(line: &bank_db::BankLineRow, suggestions: Vec<SuggestionView>) -> LineView {
    LineView {
        line_id: line.line_id.to_string(),
        value_date: line
            .value_date
            .or(line.booking_date)
            .map(date)
            .unwrap_or_default(),
        amount: money(
            &line.currency,
            if line.credit {
                line.amount_minor
            } else {
                -line.amount_minor
            },
        ),
        remittance: line.remittance.clone(),
        references: [
            line.structured_references.clone(),
            line.end_to_end_id.clone().unwrap_or_default(),
            line.payment_information_id.clone().unwrap_or_default(),
        ]
        .join(" ")
        .trim()
        .to_string(),
        debtor: line.debtor_name.clone().unwrap_or_default(),
        suggestions,
        rule: match &line.match_rule {
            Some(rule) => rule_words(rule, line.matched_by.as_deref()),
            None => line.status.to_string(),
        },
        choices: Vec::new(),
        explain_with: if line.reversal {
            "reverses_line_id"
        } else {
            "payout_ids"
        },
    }
}

async fn lines_page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (unmatched, suspense, recent, funders) = read(state, |c| {
        let mut unmatched = Vec::new();
        for line in bank_db::lines_with_status(
            c,
            BankLineStatus::Unmatched,
            crate::limits::TREASURY_PAGE_LINES_SHOWN,
        )? {
            let found = treasury::suggestions(c, &line)?;
            let mut names = Names::new(c);
            let suggestions = found
                .into_iter()
                .map(|s| suggestion_view(&mut names, s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
            unmatched.push(view(&line, suggestions));
        }
        let funders: Vec<(String, String)> = fin_db::all_parties(c)?
            .into_iter()
            .filter(|p| p.role == "funder")
            .map(|p| (p.party_id.to_string(), p.name))
            .collect();
        let matched = bank_db::lines_with_status(
            c,
            BankLineStatus::Matched,
            crate::limits::TREASURY_PAGE_LINES_SHOWN,
        )?;
        let mut suspense = Vec::new();
        for line in bank_db::lines_with_status(
            c,
            BankLineStatus::Suspense,
            crate::limits::TREASURY_PAGE_LINES_SHOWN,
        )? {
            let mut shown = view(&line, vec![]);
            shown.choices = suspense_choices(c, &line, &matched)
                .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
            suspense.push(shown);
        }
        let mut recent: Vec<LineView> = matched.iter().map(|l| view(l, vec![])).collect();
        recent.extend(
            bank_db::lines_with_status(
                c,
                BankLineStatus::Reversed,
                crate::limits::TREASURY_PAGE_LINES_SHOWN,
            )?
            .iter()
            .map(|l| view(l, vec![])),
        );
        Ok::<_, LedgerError>((unmatched, suspense, recent, funders))
    })
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &LinesPage {
            layout: Layout::new(session, "Bank lines", "/treasury/lines"),
            unmatched,
            suspense,
            recent,
            funders,
            notice,
            error,
        },
        status,
    )
}

#[derive(Debug, Deserialize)]
pub struct LinesQuery {
    /// The line just matched or explained by hand.
    pub matched: Option<String>,
}

pub async fn lines(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<LinesQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let notice = match query.into_inner().matched {
        Some(line_id) => {
            read(&state, move |c| {
                Ok::<_, crate::db::DbError>(bank_db::line(c, &line_id)?.map(|line| {
                    let shown = view(&line, vec![]);
                    format!(
                    "The {} of {} on {} is explained ({}); it left the lists that wait for you.",
                    if line.credit { "credit" } else { "debit" },
                    money(&line.currency, line.amount_minor),
                    shown.value_date,
                    shown.rule.to_lowercase()
                )
                }))
            })
            .await?
        }
        None => None,
    };
    lines_page(&state, &session, notice, None).await
}

#[derive(MultipartForm)]
pub struct ImportForm {
    pub csrf: Text<String>,
    #[multipart(limit = "32MiB")]
    pub statement: FileBytes,
}

pub async fn import(
    state: web::Data<AppState>,
    session: Session,
    form: MultipartForm<ImportForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    match treasury::import(
        &state.ledger,
        &state.pool,
        &actor(&session),
        form.statement.data.to_vec(),
    )
    .await
    {
        Ok(report) => {
            let lines = |n: usize| {
                if n == 1 {
                    "1 line".to_string()
                } else {
                    format!("{n} lines")
                }
            };
            let notice = format!(
                "{} imported ({} already known): {} matched, {} waiting for you below, {} to suspense, {} skipped.",
                lines(report.lines_imported),
                report.already_imported,
                report.matched.len(),
                report.unmatched.len(),
                report.suspense.len(),
                report.skipped.len()
            );
            lines_page(&state, &session, Some(notice), None).await
        }
        Err(error) => lines_page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

/// Ids typed into a form, separated by commas or spaces.
fn ids(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct MatchForm {
    pub csrf: String,
    /// A credit: invoice ids separated by commas or spaces.
    #[serde(default)]
    pub invoice_ids: String,
    /// A debit: the payout ids it paid.
    #[serde(default)]
    pub payout_ids: String,
    /// A reversal: the credit line it takes back.
    #[serde(default)]
    pub reverses_line_id: String,
    /// A credit from a funder: whose deposit it is.
    #[serde(default)]
    pub deposit_for_funder: String,
}

pub async fn match_line(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<MatchForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let line_id = path.into_inner();
    let form = form.into_inner();
    // The form offers one field per kind of line; the first one filled says what it is.
    let how = if !form.deposit_for_funder.trim().is_empty() {
        ManualMatch::Deposit(form.deposit_for_funder.trim().to_string())
    } else if !form.payout_ids.trim().is_empty() {
        ManualMatch::Payouts(ids(&form.payout_ids))
    } else if !form.reverses_line_id.trim().is_empty() {
        ManualMatch::Reverses(form.reverses_line_id.trim().to_string())
    } else {
        ManualMatch::Invoices(ids(&form.invoice_ids))
    };
    let outcome =
        treasury::match_by_hand(&state.ledger, &state.pool, &actor(&session), &line_id, how).await;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/treasury/lines?matched={line_id}"))),
        Err(error) => lines_page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

pub struct PayoutView {
    /// The payout's reference, as the bank file's EndToEndId carries it.
    pub payout_id: String,
    pub party: String,
    pub amount: String,
    pub reason: String,
    pub status: String,
    pub iban: String,
}

pub struct BatchView {
    pub batch_id: String,
    pub execution_date: String,
    pub count: i32,
    pub total: String,
    pub confirmed: String,
    pub status: &'static str,
    pub proposed_by: String,
    pub approved_by: String,
    /// Awaiting approval: the signed-in user may approve it (someone else proposed it).
    pub awaiting: bool,
    /// Its pain.001 file exists (approved).
    pub has_file: bool,
}

/// A batch's status in treasury's words.
fn batch_words(status: BatchStatus) -> &'static str {
    match status {
        BatchStatus::AwaitingApproval => "Awaiting approval",
        BatchStatus::Declined => "Declined",
        BatchStatus::Sent => "Instructed",
        BatchStatus::Confirmed => "Paid, confirmed by the bank",
    }
}

fn batch_view(b: payouts_db::PayoutBatchRow) -> BatchView {
    BatchView {
        execution_date: date(b.requested_execution_date),
        count: b.payout_count,
        total: money(&b.currency, b.total_minor),
        confirmed: money(&b.currency, b.confirmed_minor),
        status: batch_words(b.status),
        proposed_by: b.proposed_by,
        approved_by: b.approved_by.unwrap_or_default(),
        awaiting: b.status == BatchStatus::AwaitingApproval,
        has_file: b.instructed_seq.is_some(),
        batch_id: String::from(b.batch_id),
    }
}

#[derive(Template)]
#[template(path = "treasury_payouts.html")]
pub struct PayoutsPage {
    pub layout: Layout,
    pub pending: Vec<PayoutView>,
    pub sent: Vec<PayoutView>,
    pub awaiting: Vec<BatchView>,
    pub batches: Vec<BatchView>,
    pub currencies: Vec<String>,
    pub today: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// "Advance on invoice INV-2026-0001".
fn payout_reason(names: &mut Names<'_>, payout: &PayoutRow) -> Result<String, ReadError> {
    let what = match payout.reason.as_str() {
        "advance" => "Advance",
        "settlement" => "Balance after the buyer paid",
        other => other,
    };
    Ok(match &payout.invoice_id {
        Some(invoice) => format!("{what} on invoice {}", names.invoice(invoice)?),
        None => what.to_string(),
    })
}

/// Payouts as the payouts pages list them.
fn payout_views(
    names: &mut Names<'_>,
    payouts: &[PayoutRow],
) -> Result<Vec<PayoutView>, ReadError> {
    let mut out = Vec::with_capacity(payouts.len());
    for p in payouts {
        out.push(PayoutView {
            amount: money(&p.currency, p.amount_minor),
            reason: payout_reason(names, p)?,
            status: match p.status {
                PayoutStatus::Pending => "Waiting for a batch",
                PayoutStatus::Proposed => "In a batch awaiting approval",
                PayoutStatus::Sent => "Instructed",
                PayoutStatus::Confirmed => "Paid, confirmed by the bank",
                PayoutStatus::Cancelled => "Cancelled",
            }
            .to_string(),
            iban: names.account_of(&p.party_id)?,
            party: names.party(&p.party_id)?,
            payout_id: p.payout_id.to_string(),
        });
    }
    Ok(out)
}

async fn payouts_page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (pending, sent, batches, currencies) = read(state, |c| {
        let limit = crate::limits::TREASURY_PAGE_PAYOUTS_SHOWN;
        let pending_rows = payouts_db::payouts_with_status(c, PayoutStatus::Pending, None, limit)?;
        let sent_rows = payouts_db::payouts_with_status(c, PayoutStatus::Sent, None, limit)?;
        let batches = payouts_db::all_batches(c)?;
        let mut currencies: Vec<String> = batches.iter().map(|b| b.currency.clone()).collect();
        currencies.extend(pending_rows.iter().map(|p| p.currency.clone()));
        let mut names = Names::new(c);
        let pending = payout_views(&mut names, &pending_rows)?;
        let sent = payout_views(&mut names, &sent_rows)?;
        Ok::<_, ReadError>((pending, sent, batches, currencies))
    })
    .await?;
    let mut currencies = currencies;
    currencies.sort();
    currencies.dedup();
    if currencies.is_empty() {
        currencies.push("EUR".into());
    }
    let (awaiting, batches): (Vec<BatchView>, Vec<BatchView>) = batches
        .into_iter()
        .map(batch_view)
        .partition(|b| b.awaiting);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &PayoutsPage {
            layout: Layout::new(session, "Payouts", "/treasury/payouts"),
            pending,
            sent,
            awaiting,
            batches,
            currencies,
            today: state.clock.today().to_string(),
            notice,
            error,
        },
        status,
    )
}

#[derive(Debug, Deserialize)]
pub struct PayoutsQuery {
    pub proposed: Option<String>,
    pub approved: Option<String>,
    pub declined: Option<String>,
}

pub async fn payouts(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<PayoutsQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let query = query.into_inner();
    let notice = if let Some(batch) = query.proposed {
        Some(format!(
            "Batch {batch} is proposed. Another treasury user must review and approve it; nothing is paid until then."
        ))
    } else if let Some(batch) = query.approved {
        Some(format!(
            "Batch {batch} is approved and instructed: download its pain.001 file and send it to the bank. Its payouts read \"instructed\" until the bank's debit shows on a statement."
        ))
    } else {
        query
            .declined
            .map(|batch| format!("Batch {batch} is declined; its payouts wait for the next batch."))
    };
    payouts_page(&state, &session, notice, None).await
}

/// The choice of a batch: its currency and execution date.
#[derive(Debug, Deserialize)]
pub struct BatchChoice {
    pub currency: String,
    pub requested_execution_date: String,
}

impl BatchChoice {
    fn day(&self) -> Result<chrono::NaiveDate, String> {
        chrono::NaiveDate::parse_from_str(self.requested_execution_date.trim(), "%Y-%m-%d").map_err(
            |_| {
                format!(
                    "execution date {:?} is not a date (YYYY-MM-DD)",
                    self.requested_execution_date
                )
            },
        )
    }
}

#[derive(Template)]
#[template(path = "treasury_batch.html")]
pub struct BatchPage {
    pub layout: Layout,
    /// `None` while previewing a batch not yet proposed.
    pub batch: Option<BatchView>,
    pub currency: String,
    pub execution_date: String,
    /// The execution date as the form sends it (YYYY-MM-DD).
    pub execution_day: String,
    pub count: usize,
    pub total: String,
    pub payouts: Vec<PayoutView>,
    /// Payouts not listed (the page shows the first ones).
    pub more: usize,
    /// Pending payouts left out because their supplier has no bank account yet.
    pub without_account: usize,
    /// The signed-in user proposed this batch.
    pub proposed_by_you: bool,
    /// The fingerprint of the transfers shown, sent back with the approval.
    pub digest: String,
    pub error: Option<String>,
}

/// The batch a proposal would make now: what the writer will gather, read from
/// the projections (the proposal itself decides, in the writer).
pub async fn preview(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<BatchChoice>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let choice = query.into_inner();
    let day = match choice.day() {
        Ok(day) => day,
        Err(message) => return payouts_page(&state, &session, None, Some(message)).await,
    };
    let Ok(currency) = crate::domain::Currency::parse(&choice.currency) else {
        return payouts_page(
            &state,
            &session,
            None,
            Some(format!(
                "{:?} is not a currency we pay out",
                choice.currency
            )),
        )
        .await;
    };
    let code = currency.code().to_string();
    let (payouts, without_account, total, count) = read(&state, move |c| {
        let pending = payouts_db::payouts_with_status(
            c,
            PayoutStatus::Pending,
            Some(&code),
            2 * crate::limits::PAYOUTS_PER_BATCH_MAX as i64,
        )?;
        let mut payable = Vec::new();
        let mut without_account = 0;
        for payout in pending {
            let has_account = fin_db::party(c, &payout.party_id)?
                .is_some_and(|p| crate::services::payout::commands::payable(&p));
            if !has_account {
                without_account += 1;
            } else if payable.len() < crate::limits::PAYOUTS_PER_BATCH_MAX {
                payable.push(payout);
            }
        }
        let total: i64 = payable.iter().map(|p| p.amount_minor).sum();
        let count = payable.len();
        payable.truncate(crate::limits::TREASURY_PAGE_PAYOUTS_SHOWN as usize);
        let views = payout_views(&mut Names::new(c), &payable)?;
        Ok::<_, ReadError>((views, without_account, total, count))
    })
    .await?;
    html(
        &BatchPage {
            layout: Layout::new(&session, "Preview a payout batch", "/treasury/payouts"),
            batch: None,
            currency: currency.code().to_string(),
            execution_date: date(day),
            execution_day: day.to_string(),
            more: count - payouts.len(),
            count,
            total: money(currency.code(), total),
            payouts,
            without_account,
            proposed_by_you: false,
            digest: String::new(),
            error: None,
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct BatchForm {
    pub csrf: String,
    pub currency: String,
    pub requested_execution_date: String,
}

/// Proposes the batch previewed; a second treasury user approves it.
pub async fn create_batch(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<BatchForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let choice = BatchChoice {
        currency: form.currency,
        requested_execution_date: form.requested_execution_date,
    };
    let day = match choice.day() {
        Ok(day) => day,
        Err(message) => return payouts_page(&state, &session, None, Some(message)).await,
    };
    let outcome =
        match ProposeBatch::parse(actor(&session), &session.0.email, &choice.currency, day) {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        };
    match outcome {
        Ok(receipt) => Ok(see_other(&format!(
            "/treasury/payouts?proposed=pb-{}",
            receipt.seq
        ))),
        Err(error) => payouts_page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

/// One batch: what it pays, to whom, who proposed and approved it; approval
/// or decline while it waits.
async fn batch_page(
    state: &web::Data<AppState>,
    session: &Session,
    batch_id: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let found = read(state, move |c| {
        let Some(batch) = payouts_db::batch(c, &batch_id)? else {
            return Ok(None);
        };
        let rows = payouts_db::payouts_of_batch(c, &batch_id)?;
        // What the approver sees, fingerprinted as the writer will check it.
        let mut seen = Vec::with_capacity(rows.len());
        for row in &rows {
            let iban = fin_db::party(c, &row.party_id)?
                .and_then(|p| p.iban)
                .unwrap_or_default();
            let amount = crate::domain::Currency::parse(&row.currency)
                .map(|cur| cur.format_amount(row.amount_minor))
                .unwrap_or_default();
            seen.push((row.payout_id.to_string(), iban, amount));
        }
        let digest = crate::services::payout::commands::transfers_digest(
            seen.iter()
                .map(|(p, i, a)| (p.as_str(), i.as_str(), a.as_str())),
        );
        let shown = &rows[..rows
            .len()
            .min(crate::limits::TREASURY_PAGE_PAYOUTS_SHOWN as usize)];
        let views = payout_views(&mut Names::new(c), shown)?;
        Ok::<_, ReadError>(Some((batch, views, rows.len(), digest)))
    })
    .await?;
    let Some((batch, payouts, count, digest)) = found else {
        return Err(PageError::NotFound);
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = batch_view(batch.clone());
    html(
        &BatchPage {
            layout: Layout::new(session, "Payout batch", "/treasury/payouts"),
            currency: batch.currency.clone(),
            execution_date: date(batch.requested_execution_date),
            execution_day: batch.requested_execution_date.to_string(),
            more: count - payouts.len(),
            total: money(&batch.currency, batch.total_minor),
            payouts,
            without_account: 0,
            proposed_by_you: batch.proposed_by == session.0.email,
            count: if batch.status == BatchStatus::Declined {
                batch.payout_count as usize
            } else {
                count
            },
            batch: Some(view),
            digest,
            error,
        },
        status,
    )
}

pub async fn batch(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    batch_page(&state, &session, path.into_inner(), None).await
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    /// The fingerprint of the transfers the approver saw.
    #[serde(default)]
    pub seen: String,
}

/// Approves or declines a proposed batch, for the signed-in user.
async fn decide(
    state: web::Data<AppState>,
    session: Session,
    batch_id: String,
    form: DecisionForm,
    approve: bool,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let (id, by) = (batch_id.clone(), session.0.email.clone());
    let (payout_ids, lineages) = read(&state, move |c| {
        let payout_ids: Vec<String> = payouts_db::payouts_of_batch(c, &id)?
            .into_iter()
            .map(|p| String::from(p.payout_id))
            .collect();
        let lineages = crate::services::payout::commands::approval_lineages(c, &id, &by)?;
        Ok::<_, crate::db::DbError>((payout_ids, lineages))
    })
    .await?;
    let who = session.0.email.clone();
    let outcome = if approve {
        match ApproveBatch::parse(actor(&session), &who, &batch_id, payout_ids)
            .map(|command| command.as_seen(&form.seen).with_lineages(lineages))
        {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        }
    } else {
        match DeclineBatch::parse(actor(&session), &who, &batch_id, payout_ids, &form.reason) {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        }
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!(
            "/treasury/payouts?{}={batch_id}",
            if approve { "approved" } else { "declined" }
        ))),
        Err(error) => {
            let message = refusal(error)?.1;
            batch_page(&state, &session, batch_id, Some(message)).await
        }
    }
}

pub async fn approve_batch(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    decide(state, session, path.into_inner(), form.into_inner(), true).await
}

pub async fn decline_batch(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    decide(state, session, path.into_inner(), form.into_inner(), false).await
}

pub async fn pain001(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let batch_id = path.into_inner();
    let id = batch_id.clone();
    let bytes = read(&state, move |c| {
        match crate::services::payout::pain001_of(c, &id) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(LedgerError::Rejected { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    })
    .await?;
    match bytes {
        Some(bytes) => Ok(HttpResponse::Ok()
            .content_type("application/xml")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{batch_id}.pain001.xml\""),
            ))
            .body(bytes)),
        None => Err(PageError::NotFound),
    }
}

/// A reconciliation row in treasury's words, with formatted amounts and,
/// when it differs, what to do next.
pub struct ReconciliationView {
    pub account: String,
    pub item: String,
    pub statement: String,
    pub ledger: String,
    pub difference: String,
    pub next_step: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "treasury_reconciliation.html")]
pub struct ReconciliationPage {
    pub layout: Layout,
    /// (sha256, message id, imported at)
    pub statements: Vec<(String, String, String)>,
    /// The statement shown: (sha256, message id) and its rows.
    pub shown: Option<(String, String)>,
    pub rows: Vec<ReconciliationView>,
    pub differences: usize,
}

/// Whether a reconciliation row shows a difference (a currency the ledger
/// does not keep is one, with nothing to subtract).
fn differs(row: &ReconciliationRow) -> bool {
    row.check == Check::CurrencyNotKept
        || row
            .difference
            .chars()
            .any(|c| c.is_ascii_digit() && c != '0')
}

/// "1,234.56 EUR" or "−8.85 EUR" from the row's signed decimal text.
fn signed_money(currency: &str, text: &str) -> String {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    match crate::domain::Currency::parse(currency).and_then(|c| {
        c.parse_amount_exact(digits)
            .map(|minor| c.format_display(minor))
    }) {
        Ok(shown) if negative => format!("−{shown}"),
        Ok(shown) => shown,
        Err(_) => text.to_string(),
    }
}

fn check_words(check: &Check) -> String {
    match check {
        Check::CurrencyNotKept => "A currency the ledger does not keep".into(),
        Check::StatementArithmetic => {
            "Does the statement add up? Its closing balance against opening + money in − money out"
                .into()
        }
        Check::LineMissing(line_id) => {
            format!("A booked line of the statement is not in the ledger (line {line_id})")
        }
        Check::BookedCredits => {
            "Money in: the statement's booked credits against the lines imported".into()
        }
        Check::BookedDebits => {
            "Money out: the statement's booked debits against the lines imported".into()
        }
        Check::OpeningBalance(day) => format!(
            "Opening balance against our bank account in the ledger at the end of {}",
            date(*day)
        ),
        Check::ClosingBalance(day) => format!(
            "Closing balance against our bank account in the ledger at the end of {}",
            date(*day)
        ),
    }
}

fn reconciliation_view(row: &ReconciliationRow) -> ReconciliationView {
    ReconciliationView {
        account: format!("{} {}", spaced_iban(&row.account), row.currency),
        item: check_words(&row.check),
        statement: signed_money(&row.currency, &row.statement),
        ledger: signed_money(&row.currency, &row.ledger),
        difference: signed_money(&row.currency, &row.difference),
        next_step: differs(row).then(|| row.check.next_step()),
    }
}

pub async fn reconciliation(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<ReconciliationQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let wanted = query.into_inner().statement;
    let (statements, shown) = read(&state, move |c| {
        let statements = bank_db::statement_files(c, crate::limits::STATEMENT_FILES_SHOWN)?;
        let chosen = wanted.or_else(|| statements.first().map(|s| s.0.clone()));
        let shown = match chosen {
            Some(sha256) => match treasury::reconcile_kept(c, &sha256) {
                Ok((document, rows)) => Some((sha256, document.message_id, rows)),
                Err(LedgerError::Rejected { .. }) => None,
                Err(other) => return Err(other),
            },
            None => None,
        };
        Ok::<_, LedgerError>((statements, shown))
    })
    .await?;
    let (shown, rows) = match shown {
        Some((sha256, message_id, rows)) => (Some((sha256, message_id)), rows),
        None => (None, Vec::new()),
    };
    html(
        &ReconciliationPage {
            layout: Layout::new(&session, "Reconciliation", "/treasury/reconciliation"),
            statements: statements
                .into_iter()
                .map(|(sha, id, at)| (sha, id, at.format("%-d %b %Y %H:%M UTC").to_string()))
                .collect(),
            differences: rows.iter().filter(|r| differs(r)).count(),
            shown,
            rows: rows.iter().map(reconciliation_view).collect(),
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct ReconciliationQuery {
    pub statement: Option<String>,
}

pub async fn reconciliation_csv(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let sha256 = path.into_inner();
    let id = sha256.clone();
    let rows = read(&state, move |c| match treasury::reconcile_kept(c, &id) {
        Ok((_, rows)) => Ok(Some(rows)),
        Err(LedgerError::Rejected { .. }) => Ok(None),
        Err(other) => Err(other),
    })
    .await?;
    let Some(rows) = rows else {
        return Err(PageError::NotFound);
    };
    let text = treasury::reconciliation_csv(&rows)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"reconciliation-{}.csv\"",
                &sha256[..12.min(sha256.len())]
            ),
        ))
        .body(text))
}
