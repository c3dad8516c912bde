//! Treasury: statement import, the bank lines and their matching.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use super::body::Body;
use super::dto::ProblemDoc;
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::lists::{page, status_filter, BankLineList, BankStatementList, Paging};
use super::{actor, recorded};
use crate::db::bank as bank_db;
use crate::domain::BankLineStatus;
use crate::domain::Role;
use crate::server::AppState;
use crate::services::treasury::{self, ManualMatch};

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub lines_imported: usize,
    pub already_imported: usize,
    /// Deprecated (sunset 2027-12-31): the same as `matches`, as positional
    /// triples (line id, what it matched, rule).
    #[deprecated = "read `matches`"]
    #[schema(value_type = Vec<Vec<String>>)]
    pub matched: Vec<(String, String, String)>,
    /// Every line matched at import, with what it matched and by which rule.
    pub matches: Vec<LineMatch>,
    pub unmatched: Vec<String>,
    pub suspense: Vec<String>,
    pub skipped: Vec<String>,
}

/// One line matched at import.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineMatch {
    pub line_id: String,
    /// What it matched: an invoice id, a payout batch id, payout ids, or the
    /// line it reverses.
    pub matched: String,
    /// The rule that matched it.
    #[schema(value_type = super::closed::MatchRuleName)]
    pub rule: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LinesQuery {
    /// Only lines with this status (every status when absent).
    #[param(value_type = Option<crate::api::closed::BankLineStatusName>)]
    pub status: Option<String>,
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankLineResponse {
    pub line_id: String,
    pub account: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
    pub credit: bool,
    pub reversal: bool,
    pub value_date: Option<String>,
    pub end_to_end_id: Option<String>,
    pub structured_references: String,
    pub remittance: String,
    pub debtor_name: Option<String>,
    #[schema(value_type = crate::api::closed::BankLineStatusName)]
    pub status: String,
    #[schema(value_type = Option<super::closed::MatchRuleName>)]
    pub match_rule: Option<String>,
    pub matched_by: Option<String>,
    pub payment_seq: Option<i64>,
    /// For unmatched lines: invoices that may be what it pays.
    pub suggestions: Vec<String>,
}

/// Give exactly one of the four.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// For a credit: the invoices the line pays, in order; each gets up to its
    /// open amount. Each is an invoice id, or the number of exactly one open
    /// invoice in the line's currency.
    #[serde(default)]
    pub invoice_ids: Vec<String>,
    /// For a debit: the sent payouts it pays (their amounts must add up to the line's).
    #[serde(default)]
    pub payout_ids: Vec<String>,
    /// For a reversal: the credit line it takes back (and the payment that credit made).
    #[serde(default)]
    pub reverses_line_id: Option<String>,
    /// For a credit from a funder: the funder whose deposit it is.
    #[serde(default)]
    pub deposit_for_funder: Option<String>,
}

/// Import a camt.053 or camt.054 file (the body): every booked line once, then automatic matching.
#[utoipa::path(post, path = "/api/v1/bank-statements", tag = "treasury",
    request_body(content = String, content_type = "application/xml", description = "camt.053 or camt.054, 001.02 to 001.10"),
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 200, body = ImportResponse), (status = 422, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn import(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let report = treasury::import(
            &state.ledger,
            &state.pool,
            &actor(&principal),
            body.to_vec(),
        )
        .await?;
        let answer = ImportResponse {
            lines_imported: report.lines_imported,
            already_imported: report.already_imported,
            matches: report
                .matched
                .iter()
                .map(|(line_id, matched, rule)| LineMatch {
                    line_id: line_id.clone(),
                    matched: matched.clone(),
                    rule: rule.clone(),
                })
                .collect(),
            #[allow(deprecated)]
            matched: report.matched,
            unmatched: report.unmatched,
            suspense: report.suspense,
            skipped: report.skipped,
        };
        Ok((
            StatusCode::OK,
            serde_json::to_value(answer).expect("serializes"),
        ))
    })
    .await
}

/// Bank lines in the order they were imported, with suggestions for the unmatched ones.
#[utoipa::path(get, path = "/api/v1/bank-lines", tag = "treasury", params(LinesQuery),
    responses((status = 200, body = BankLineList), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn lines(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<LinesQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require_treasury_or_auditor("bank lines are")?;
    let LinesQuery {
        status,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = Paging { limit, cursor }.read_as::<(i64, String)>()?;
    let status = status_filter::<BankLineStatus>(status)?;
    let rows = state
        .read(move |c| {
            let mut out = Vec::new();
            for row in bank_db::lines_page(c, status, after, limit + 1)? {
                let suggestions = if row.status == BankLineStatus::Unmatched {
                    treasury::suggestions(c, &row)?
                        .into_iter()
                        .map(|s| String::from(s.invoice.invoice_id))
                        .collect()
                } else {
                    Vec::new()
                };
                out.push((row, suggestions));
            }
            Ok::<_, crate::ledger::LedgerError>(out)
        })
        .await?;
    let page = page(
        rows,
        limit,
        |(r, _)| (r.imported_seq, r.line_id.to_string()),
        |(r, suggestions)| BankLineResponse {
            amount: crate::domain::Currency::parse(&r.currency)
                .map(|c| c.format_amount(r.amount_minor))
                .unwrap_or_default(),
            line_id: String::from(r.line_id),
            account: r.account,
            currency: r.currency,
            credit: r.credit,
            reversal: r.reversal,
            value_date: r.value_date.map(|d| d.to_string()),
            end_to_end_id: r.end_to_end_id,
            structured_references: r.structured_references,
            remittance: r.remittance,
            debtor_name: r.debtor_name,
            status: r.status.to_string(),
            match_rule: r.match_rule,
            matched_by: r.matched_by,
            payment_seq: r.payment_seq,
            suggestions,
        },
    );
    Ok(HttpResponse::Ok().json(BankLineList::new(page)))
}

/// Explain a line by hand: a credit to one or several invoices (a split in invoice order),
/// a debit to the payouts it paid, a reversal to the credit it takes back.
#[utoipa::path(post, path = "/api/v1/bank-lines/{line_id}/match", tag = "treasury", request_body = MatchRequest,
    params(("line_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = super::dto::Recorded), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn match_line(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let line_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: MatchRequest = parse_json(&body)?;
        let mut given = Vec::new();
        if !input.invoice_ids.is_empty() {
            given.push(ManualMatch::Invoices(input.invoice_ids));
        }
        if let Some(funder_id) = input.deposit_for_funder {
            given.push(ManualMatch::Deposit(funder_id));
        }
        if !input.payout_ids.is_empty() {
            given.push(ManualMatch::Payouts(input.payout_ids));
        }
        if let Some(reversed_line_id) = input.reverses_line_id {
            given.push(ManualMatch::Reverses(reversed_line_id));
        }
        let [how] = <[ManualMatch; 1]>::try_from(given).map_err(|_| {
            ApiError::invalid(
                "invoice_ids",
                "give exactly one of invoice_ids, payout_ids, reverses_line_id or deposit_for_funder",
            )
        })?;
        let prefix = if matches!(how, ManualMatch::Invoices(_)) { "pmt" } else { "seq" };
        let receipt =
            treasury::match_by_hand(&state.ledger, &state.pool, &actor(&principal), &line_id, how)
                .await?;
        Ok(recorded(format!("{prefix}-{}", receipt.seq), receipt))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankStatementResponse {
    pub sha256: String,
    pub message_id: String,
    pub imported_at: String,
    /// Where to read its reconciliation (add `?format=csv` for CSV).
    pub reconciliation: String,
}

/// Imported statement files, newest first.
#[utoipa::path(get, path = "/api/v1/bank-statements", tag = "treasury", params(Paging),
    responses((status = 200, body = BankStatementList), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn statements(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    principal.require_treasury_or_auditor("bank statements are")?;
    let (limit, before) = query.read_as::<(i64, String)>()?;
    let rows = state
        .read(move |c| bank_db::statement_files_page(c, before, limit + 1))
        .await?;
    let page = page(
        rows,
        limit,
        |(sha256, _, at)| (at.and_utc().timestamp_micros(), sha256.clone()),
        |(sha256, message_id, at)| BankStatementResponse {
            reconciliation: format!("/api/v1/bank-statements/{sha256}/reconciliation"),
            sha256,
            message_id,
            imported_at: super::lists::instant(at),
        },
    );
    Ok(HttpResponse::Ok().json(BankStatementList::new(page)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReconciliationQuery {
    /// json (default) or csv.
    pub format: Option<String>,
}

/// Reconcile an imported statement with the ledger: its own arithmetic, every line, and
/// `bank:main` at the end of the opening and closing days against the stated balances.
#[utoipa::path(get, path = "/api/v1/bank-statements/{sha256}/reconciliation", tag = "treasury",
    params(("sha256" = String, Path), ReconciliationQuery),
    responses((status = 200, body = Vec<treasury::ReconciliationRow>), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn reconciliation(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<ReconciliationQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require_treasury_or_auditor("reconciliation is")?;
    let csv = match query.into_inner().format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("format must be json or csv, not {other:?}"),
            ))
        }
    };
    let sha256 = path.into_inner();
    let (_, rows) = state
        .read(move |c| treasury::reconcile_kept(c, &sha256))
        .await?;
    if csv {
        let text = treasury::reconciliation_csv(&rows)?;
        return Ok(HttpResponse::Ok().content_type("text/csv").body(text));
    }
    Ok(HttpResponse::Ok().json(rows))
}
