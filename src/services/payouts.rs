//! Paying suppliers out: bank accounts, pain.001 batches, and confirmation
//! when the bank's debit shows up on a statement.
//!
//! A payout instruction is written by the entry that owes the money (an
//! advance, or a settlement's supplier part) into `payouts:pending`. Treasury
//! gathers the pending payouts of one currency whose supplier has a bank
//! account into a batch (`payout.batch_created`: `payouts:pending` to
//! `payouts:sent`) and hands the bank the batch's pain.001 file. The bank's
//! debit lands in `bank-suspense` like any debit; matching it to the batch or
//! to single payouts (`payout.confirmed`: `payouts:sent` to `bank-suspense`)
//! confirms them. Each step is a log entry, so the file itself can be written
//! again, byte for byte, from the log.

use crate::domain::ErrorCode;
use crate::services::events::Event;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::db::bank::{self as bank_db, BankLineRow};
use crate::db::financing as fin_db;
use crate::db::payouts::{self as payouts_db, PayoutBatchRow};
use crate::db::DbConnection;
use crate::domain::iban::{parse_bic, parse_iban};
use crate::domain::{Currency, Role};
use crate::formats::pain001::{self, CreditTransfer, CreditTransferBatch};
use crate::ledger::{BatchContext, Command, Entry, EntryDraft, LedgerError};
use crate::services::financing::common::{
    accounts, amount_text, invalid, load_party, parse_amount, reject, PostingsBuilder,
};
use crate::services::financing::invoices::Actor;

fn operator_only(actor: &Actor, what: &str) -> Result<(), LedgerError> {
    if actor.role == Role::Operator {
        Ok(())
    } else {
        Err(reject(
            ErrorCode::Forbidden,
            None,
            format!("{what} is for treasury (an operator key)"),
        ))
    }
}

/// `party.bank_account_set`: where a party is paid (for the operator: the
/// account batches are paid from).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountSet {
    pub party_id: String,
    pub iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bic: Option<String>,
}

pub struct SetBankAccount {
    actor: Actor,
    body: BankAccountSet,
}

impl SetBankAccount {
    pub fn parse(
        actor: Actor,
        party_id: &str,
        iban: &str,
        bic: Option<&str>,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "recording a bank account")?;
        let iban = parse_iban(iban).map_err(|e| invalid("iban", e.to_string()))?;
        let bic = bic
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(parse_bic)
            .transpose()
            .map_err(|e| invalid("bic", e.to_string()))?;
        Ok(SetBankAccount {
            actor,
            body: BankAccountSet {
                party_id: party_id.to_string(),
                iban,
                bic,
            },
        })
    }
}

impl Command for SetBankAccount {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let connection = context.connection()?;
        let party = fin_db::party(connection, &self.body.party_id)?.ok_or_else(|| {
            reject(
                ErrorCode::NotFound,
                Some("party_id"),
                format!("no party {}", self.body.party_id),
            )
        })?;
        if party.iban.as_deref() == Some(self.body.iban.as_str()) && party.bic == self.body.bic {
            return Err(reject(
                ErrorCode::Unchanged,
                Some("iban"),
                format!("party {} already has this bank account", party.party_id),
            ));
        }
        Ok(Event::BankAccountSet(self.body.clone()).draft(self.actor.party.to_string(), vec![]))
    }
}

/// One transfer of a batch, as the pain.001 file says it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchedPayout {
    pub payout_id: String,
    pub party_id: String,
    pub name: String,
    pub iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bic: Option<String>,
    pub amount: String,
    pub remittance: String,
}

/// `payout.batch_created`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchCreated {
    pub batch_id: String,
    pub currency: String,
    pub total: String,
    pub requested_execution_date: NaiveDate,
    pub debtor_name: String,
    pub debtor_iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debtor_bic: Option<String>,
    pub payouts: Vec<BatchedPayout>,
}

/// Gathers the pending payouts of one currency (oldest first, at most
/// [`crate::limits::PAYOUTS_PER_BATCH_MAX`]) whose party has a bank account.
pub struct CreateBatch {
    actor: Actor,
    currency: Currency,
    requested_execution_date: NaiveDate,
}

impl CreateBatch {
    pub fn parse(
        actor: Actor,
        currency: &str,
        requested_execution_date: NaiveDate,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "creating a payout batch")?;
        let currency = Currency::parse(currency).map_err(|e| invalid("currency", e.to_string()))?;
        Ok(CreateBatch {
            actor,
            currency,
            requested_execution_date,
        })
    }
}

impl Command for CreateBatch {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        let currency = self.currency;
        let connection = context.connection()?;
        let operator = load_party(
            connection,
            self.actor.party.as_str(),
            Role::Operator,
            "actor",
        )?;
        let debtor_iban = operator.iban.clone().ok_or_else(|| {
            reject(
                ErrorCode::NoBankAccount,
                Some("currency"),
                format!(
                    "the operator {} has no bank account to pay from; record its IBAN first",
                    operator.party_id
                ),
            )
        })?;
        let pending = payouts_db::payable_payouts(
            connection,
            currency.code(),
            crate::limits::PAYOUTS_PER_BATCH_MAX as i64,
        )?;
        if pending.is_empty() {
            return Err(reject(
                ErrorCode::NothingToPay,
                Some("currency"),
                format!("no pending {currency} payout to a party with a bank account"),
            ));
        }
        let mut total = 0i64;
        let mut payouts = Vec::with_capacity(pending.len());
        for payout in pending {
            let party = load_party(connection, &payout.party_id, Role::Supplier, "party_id")?;
            let iban = party.iban.clone().ok_or_else(|| {
                LedgerError::Inconsistent(format!(
                    "payable payout {} lost its IBAN",
                    payout.payout_id
                ))
            })?;
            total += payout.amount_minor;
            let about = payout.invoice_id.as_deref().unwrap_or("-");
            payouts.push(BatchedPayout {
                remittance: format!("{} {} {about}", payout.payout_id, payout.reason),
                payout_id: payout.payout_id,
                party_id: party.party_id,
                name: party.name,
                iban,
                bic: party.bic,
                amount: amount_text(currency, payout.amount_minor),
            });
        }
        let body = PayoutBatchCreated {
            batch_id: format!("pb-{seq}"),
            currency: currency.code().into(),
            total: amount_text(currency, total),
            requested_execution_date: self.requested_execution_date,
            debtor_name: operator.name,
            debtor_iban,
            debtor_bic: operator.bic,
            payouts,
        };
        // The file must be writable before the batch is recorded.
        pain001::write(&transfer_batch(&body, context.at))
            .map_err(|e| reject(ErrorCode::Pain001Refused, None, e))?;
        let mut postings = PostingsBuilder::new(currency);
        postings
            .debit(accounts::PAYOUTS_PENDING, total)
            .credit(accounts::PAYOUTS_SENT, total);
        Ok(Event::PayoutBatchCreated(body).draft(self.actor.party.to_string(), postings.finish()))
    }
}

fn transfer_batch(
    body: &PayoutBatchCreated,
    created_at: chrono::DateTime<chrono::Utc>,
) -> CreditTransferBatch {
    CreditTransferBatch {
        message_id: body.batch_id.clone(),
        created_at,
        debtor_name: body.debtor_name.clone(),
        debtor_iban: body.debtor_iban.clone(),
        debtor_bic: body.debtor_bic.clone(),
        requested_execution_date: body.requested_execution_date,
        currency: body.currency.clone(),
        transfers: body
            .payouts
            .iter()
            .map(|p| CreditTransfer {
                end_to_end_id: p.payout_id.clone(),
                amount: p.amount.clone(),
                creditor_name: p.name.clone(),
                creditor_iban: p.iban.clone(),
                creditor_bic: p.bic.clone(),
                remittance: p.remittance.clone(),
            })
            .collect(),
    }
}

/// The pain.001 file of a batch, written again from its log entry.
pub fn pain001_of(connection: &mut DbConnection, batch_id: &str) -> Result<Vec<u8>, LedgerError> {
    let batch = payouts_db::batch(connection, batch_id)?.ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("batch_id"),
            format!("no payout batch {batch_id}"),
        )
    })?;
    let canonical = crate::db::log::entry(connection, batch.created_seq)?.ok_or_else(|| {
        LedgerError::Inconsistent(format!(
            "batch {batch_id}: entry {} is missing",
            batch.created_seq
        ))
    })?;
    let entry = Entry::from_canonical(canonical.as_bytes())
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let Event::PayoutBatchCreated(body) = Event::of(&entry)? else {
        return Err(LedgerError::Inconsistent(format!(
            "batch {batch_id}: entry {} is a {}",
            batch.created_seq, entry.kind
        )));
    };
    pain001::write(&transfer_batch(&body, entry.at)).map_err(LedgerError::Inconsistent)
}

/// `payout.confirmed`: a statement debit shows that the bank paid these payouts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutConfirmed {
    pub line_id: String,
    pub payout_ids: Vec<String>,
    pub currency: String,
    pub amount: String,
    /// `end_to_end_id`, `payment_information_id` or `manual`.
    pub rule: String,
    /// `system`, or the party that matched it by hand.
    pub matched_by: String,
}

pub struct ConfirmPayouts {
    pub actor: Actor,
    pub line_id: String,
    pub payout_ids: Vec<String>,
    pub rule: String,
    pub matched_by: String,
}

/// A debit line's status allows a payout to be confirmed by it.
fn unexplained_debit(line: &BankLineRow) -> bool {
    line.status == "suspense" && line.credit == 0 && line.reversal == 0
}

impl Command for ConfirmPayouts {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        operator_only(&self.actor, "confirming payouts")?;
        let connection = context.connection()?;
        let line = bank_db::line(connection, &self.line_id)?.ok_or_else(|| {
            reject(
                ErrorCode::NotFound,
                Some("line_id"),
                format!("no bank line {}", self.line_id),
            )
        })?;
        if !unexplained_debit(&line) {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("line_id"),
                format!(
                    "bank line {} is not an unexplained debit (it is a {} {} line)",
                    line.line_id,
                    line.status,
                    if line.credit == 1 { "credit" } else { "debit" }
                ),
            ));
        }
        if self.payout_ids.is_empty() {
            return Err(invalid("payout_ids", "name at least one payout"));
        }
        let currency = Currency::parse(&line.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let mut total = 0i64;
        for payout_id in &self.payout_ids {
            let payout = payouts_db::payout(connection, payout_id)?.ok_or_else(|| {
                reject(
                    ErrorCode::NotFound,
                    Some("payout_ids"),
                    format!("no payout {payout_id}"),
                )
            })?;
            if payout.status != "sent" || payout.currency != line.currency {
                return Err(reject(
                    ErrorCode::IllegalTransition,
                    Some("payout_ids"),
                    format!(
                        "payout {payout_id} is {} in {}; only a sent {} payout can be confirmed",
                        payout.status, payout.currency, line.currency
                    ),
                ));
            }
            total += payout.amount_minor;
        }
        if total != line.amount_minor {
            return Err(invalid(
                "payout_ids",
                format!(
                    "the payouts add up to {}, the debit is {}",
                    amount_text(currency, total),
                    amount_text(currency, line.amount_minor)
                ),
            ));
        }
        let mut postings = PostingsBuilder::new(currency);
        postings
            .debit(accounts::PAYOUTS_SENT, total)
            .credit(accounts::BANK_SUSPENSE, total);
        let body = PayoutConfirmed {
            line_id: line.line_id,
            payout_ids: self.payout_ids.clone(),
            currency: currency.code().into(),
            amount: amount_text(currency, total),
            rule: self.rule.clone(),
            matched_by: self.matched_by.clone(),
        };
        Ok(Event::PayoutConfirmed(body).draft(self.actor.party.to_string(), postings.finish()))
    }
}

/// The payouts an imported debit line pays, and by which rule, when certain:
/// its EndToEndId is a sent payout of the same amount, or its payment
/// information id (or EndToEndId) names a sent batch whose unconfirmed
/// payouts add up to the line.
pub fn auto_confirm(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Option<(Vec<String>, &'static str)>, LedgerError> {
    if !unexplained_debit(line) {
        return Ok(None);
    }
    if let Some(end_to_end) = &line.end_to_end_id {
        if let Some(payout) = payouts_db::payout(connection, end_to_end)? {
            if payout.status == "sent"
                && payout.currency == line.currency
                && payout.amount_minor == line.amount_minor
            {
                return Ok(Some((vec![payout.payout_id], "end_to_end_id")));
            }
        }
    }
    for reference in [&line.payment_information_id, &line.end_to_end_id]
        .into_iter()
        .flatten()
    {
        if payouts_db::batch(connection, reference)?.is_none() {
            continue;
        }
        let sent: Vec<_> = payouts_db::payouts_of_batch(connection, reference)?
            .into_iter()
            .filter(|p| p.status == "sent" && p.currency == line.currency)
            .collect();
        let total: i64 = sent.iter().map(|p| p.amount_minor).sum();
        if !sent.is_empty() && total == line.amount_minor {
            return Ok(Some((
                sent.into_iter().map(|p| p.payout_id).collect(),
                "payment_information_id",
            )));
        }
    }
    Ok(None)
}

/// `party.bank_account_set`: the party's IBAN and BIC.
pub fn project_bank_account(
    connection: &mut DbConnection,
    body: BankAccountSet,
) -> Result<(), LedgerError> {
    let mut party = fin_db::party(connection, &body.party_id)?.ok_or_else(|| {
        LedgerError::Inconsistent(format!("projector: no party {}", body.party_id))
    })?;
    party.iban = Some(body.iban);
    party.bic = body.bic;
    fin_db::update_party(connection, &party)?;
    Ok(())
}

/// `payout.batch_created`: the batch and its payouts, now sent.
pub fn project_batch(
    connection: &mut DbConnection,
    seq: i64,
    body: PayoutBatchCreated,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&body.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    for batched in &body.payouts {
        let mut payout = stored_payout(connection, &batched.payout_id)?;
        payout.status = "sent".into();
        payout.batch_id = Some(body.batch_id.clone());
        payouts_db::update_payout(connection, &payout)?;
    }
    payouts_db::insert_batch(
        connection,
        &PayoutBatchRow {
            batch_id: body.batch_id,
            currency: body.currency,
            total_minor: parse_amount(currency, &body.total)?,
            payout_count: body.payouts.len() as i32,
            debtor_iban: body.debtor_iban,
            requested_execution_date: body.requested_execution_date,
            status: "sent".into(),
            confirmed_minor: 0,
            created_seq: seq,
        },
    )?;
    Ok(())
}

/// `payout.confirmed`: the bank's debit confirms payouts and their batches.
pub fn project_confirmation(
    connection: &mut DbConnection,
    seq: i64,
    body: PayoutConfirmed,
) -> Result<(), LedgerError> {
    let mut batches: Vec<PayoutBatchRow> = Vec::new();
    for payout_id in &body.payout_ids {
        let mut payout = stored_payout(connection, payout_id)?;
        payout.status = "confirmed".into();
        payout.confirmed_seq = Some(seq);
        payouts_db::update_payout(connection, &payout)?;
        let batch_id = payout.batch_id.clone().unwrap_or_default();
        let index = match batches.iter().position(|b| b.batch_id == batch_id) {
            Some(index) => index,
            None => {
                batches.push(payouts_db::batch(connection, &batch_id)?.ok_or_else(|| {
                    LedgerError::Inconsistent(format!("projector: no batch {batch_id}"))
                })?);
                batches.len() - 1
            }
        };
        batches[index].confirmed_minor += payout.amount_minor;
    }
    for mut batch in batches {
        if batch.confirmed_minor == batch.total_minor {
            batch.status = "confirmed".into();
        }
        payouts_db::update_batch(connection, &batch)?;
    }
    crate::services::financing::common::mark_line(
        connection,
        &body.line_id,
        &body.rule,
        &body.matched_by,
        seq,
    )?;
    Ok(())
}

fn stored_payout(
    connection: &mut DbConnection,
    payout_id: &str,
) -> Result<fin_db::PayoutRow, LedgerError> {
    payouts_db::payout(connection, payout_id)?
        .ok_or_else(|| LedgerError::Inconsistent(format!("projector: no payout {payout_id}")))
}
