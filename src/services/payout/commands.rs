//! Netting a payout, batching payouts, and confirming them from the bank's debit.

use chrono::NaiveDate;

use super::events::{
    BatchedPayout, DebtRecovery, PayoutBatchCreated, PayoutBatchDeclined, PayoutBatchProposed,
    PayoutConfirmed, PayoutInstruction,
};
use super::pain001::transfer_batch;
use crate::db::bank::BankLineRow;
use crate::db::financing::{PartyRow, PayoutRow};
use crate::db::payouts::{self as payouts_db, PayoutBatchRow};
use crate::db::DbConnection;
use crate::domain::{BankLineStatus, BatchStatus, MatchRule, PayoutStatus};
use crate::domain::{Currency, ErrorCode, Role};
use crate::formats::pain001;
use crate::ledger::records::View;
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::services::common::{
    accounts, amount_text, check_reason, find_party, invalid, operator_only, reject, Actor,
    PostingsBuilder,
};

/// Nets a supplier's open debts (oldest first) from a payout and posts both:
/// the payout to `payouts:pending`, each recovery back to its funder.
/// `debts_already_taken` lets several payouts of one entry net the same debts.
pub fn net_payout(
    records: &View<'_>,
    supplier_id: &str,
    currency: Currency,
    gross_minor: i64,
    payout_id: String,
    debts_already_taken: &mut Vec<(String, i64)>,
    postings: &mut PostingsBuilder,
) -> Result<PayoutInstruction, LedgerError> {
    let mut remaining = gross_minor;
    let mut recoveries = Vec::new();
    for debt in records.open_debts(supplier_id, currency.code()) {
        if remaining == 0 {
            break;
        }
        let taken: i64 = debts_already_taken
            .iter()
            .filter(|(id, _)| *id == debt.debt_id)
            .map(|(_, a)| a)
            .sum();
        let open = debt.amount_minor - debt.recovered_minor - taken;
        let recovered = open.min(remaining);
        if recovered <= 0 {
            continue;
        }
        remaining -= recovered;
        debts_already_taken.push((debt.debt_id.to_string(), recovered));
        postings
            .credit(&accounts::supplier_debt(supplier_id), recovered)
            .debit(&accounts::funder_principal(&debt.funder_id), recovered)
            .credit(&accounts::funder_cash(&debt.funder_id), recovered);
        recoveries.push(DebtRecovery {
            debt_id: String::from(debt.debt_id),
            funder_id: String::from(debt.funder_id),
            amount: amount_text(currency, recovered),
        });
    }
    postings.credit(accounts::PAYOUTS_PENDING, remaining);
    Ok(PayoutInstruction {
        payout_id,
        party_id: supplier_id.to_string(),
        amount: amount_text(currency, remaining),
        recoveries,
    })
}

/// Who acts for the operator: a web user's e-mail or `api-key:ID`. Four
/// eyes compare it: who proposed a batch cannot approve it.
fn person(by: &str) -> Result<String, LedgerError> {
    let by = by.trim();
    if by.is_empty() {
        return Err(LedgerError::Inconsistent(
            "a payout batch command names no person".into(),
        ));
    }
    Ok(by.to_string())
}

/// The operator and the account it pays from.
fn paying_operator(records: View<'_>, actor: &Actor) -> Result<(PartyRow, String), LedgerError> {
    let operator = find_party(records, actor.party.as_str(), Role::Operator, "actor")?;
    let iban = operator.iban.clone().ok_or_else(|| {
        reject(
            ErrorCode::NoBankAccount,
            Some("currency"),
            format!(
                "the operator {} has no bank account to pay from; record its IBAN first",
                operator.party_id
            ),
        )
    })?;
    Ok((operator, iban))
}

/// A party can be paid: it has a bank account, and no change of it waits for
/// approval (payouts are held until an operator decides).
pub fn payable(party: &PartyRow) -> bool {
    party.iban.is_some() && party.requested_seq.is_none()
}

/// A fingerprint of a batch's transfers (payout, IBAN, amount, in order): the
/// approver's page shows the transfers and sends their fingerprint back, so
/// that what is approved is what was seen, whatever changed in between.
pub fn transfers_digest<'a>(
    transfers: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (payout_id, iban, amount) in transfers {
        hasher.update(format!("{payout_id}|{iban}|{amount}\n").as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The transfers of a batch as the bank will get them, from the parties'
/// bank accounts as the records hold them now.
fn transfers(records: View<'_>, payouts: &[&PayoutRow]) -> Result<Vec<BatchedPayout>, LedgerError> {
    let mut out = Vec::with_capacity(payouts.len());
    for payout in payouts {
        let party = find_party(records, &payout.party_id, Role::Supplier, "party_id")?;
        if party.requested_seq.is_some() {
            return Err(reject(
                ErrorCode::NoBankAccount,
                Some("batch_id"),
                format!(
                    "{} asked to be paid to another bank account; approve or decline that change first, or decline this batch",
                    party.name
                ),
            ));
        }
        let iban = party.iban.clone().ok_or_else(|| {
            reject(
                ErrorCode::NoBankAccount,
                Some("batch_id"),
                format!("{} has no bank account to be paid to", party.name),
            )
        })?;
        let currency = Currency::parse(&payout.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let about = payout.invoice_id.as_deref().unwrap_or("-");
        out.push(BatchedPayout {
            remittance: format!("{} {} {about}", payout.payout_id, payout.reason),
            payout_id: payout.payout_id.to_string(),
            party_id: String::from(party.party_id),
            name: party.name,
            iban,
            bic: party.bic,
            amount: amount_text(currency, payout.amount_minor),
        });
    }
    Ok(out)
}

/// Proposes a batch of the pending payouts of one currency (oldest first, at
/// most [`crate::limits::PAYOUTS_PER_BATCH_MAX`]) whose party has a bank
/// account. Nothing is paid until a second treasury user approves it.
pub struct ProposeBatch {
    actor: Actor,
    by: String,
    currency: Currency,
    requested_execution_date: NaiveDate,
}

impl ProposeBatch {
    pub fn parse(
        actor: Actor,
        by: &str,
        currency: &str,
        requested_execution_date: NaiveDate,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "proposing a payout batch")?;
        let currency = Currency::parse(currency).map_err(|e| invalid("currency", e.to_string()))?;
        Ok(ProposeBatch {
            actor,
            by: person(by)?,
            currency,
            requested_execution_date,
        })
    }
}

impl Command for ProposeBatch {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        let currency = self.currency;
        let records = context.records();
        let (operator, debtor_iban) = paying_operator(records, &self.actor)?;
        // Pending payouts to parties with a bank account, oldest first.
        let pending: Vec<&PayoutRow> = records
            .pending_payouts(currency.code())
            .into_iter()
            .filter(|payout| records.party(&payout.party_id).is_some_and(payable))
            .take(crate::limits::PAYOUTS_PER_BATCH_MAX)
            .collect();
        if pending.is_empty() {
            return Err(reject(
                ErrorCode::NothingToPay,
                Some("currency"),
                format!("no pending {currency} payout to a party with an approved bank account"),
            ));
        }
        let total: i64 = pending.iter().map(|p| p.amount_minor).sum();
        let batch_id = format!("pb-{seq}");
        // The file must be writable before the batch is proposed.
        let release = PayoutBatchCreated {
            batch_id: batch_id.clone(),
            currency: currency.code().into(),
            total: amount_text(currency, total),
            requested_execution_date: self.requested_execution_date,
            debtor_name: operator.name,
            debtor_iban: debtor_iban.clone(),
            debtor_bic: operator.bic,
            payouts: transfers(records, &pending)?,
            proposed_by: None,
            approved_by: None,
        };
        pain001::write(&transfer_batch(&release, context.at))
            .map_err(|e| reject(ErrorCode::Pain001Refused, None, e))?;
        let body = PayoutBatchProposed {
            batch_id,
            currency: currency.code().into(),
            total: amount_text(currency, total),
            requested_execution_date: self.requested_execution_date,
            debtor_iban,
            payout_ids: pending.iter().map(|p| p.payout_id.to_string()).collect(),
            proposed_by: self.by.clone(),
        };
        Ok(body.draft(self.actor.party.to_string(), vec![]))
    }
}

/// The batch awaiting approval and its payouts, checked against what the
/// command was told: every payout it holds, and nothing else.
fn awaiting<'a>(
    records: View<'a>,
    batch_id: &str,
    payout_ids: &[String],
    what: &str,
) -> Result<(&'a PayoutBatchRow, Vec<&'a PayoutRow>), LedgerError> {
    let batch = records.payout_batch(batch_id).ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("batch_id"),
            format!("no payout batch {batch_id}"),
        )
    })?;
    if batch.status != BatchStatus::AwaitingApproval {
        return Err(reject(
            ErrorCode::IllegalTransition,
            Some("batch_id"),
            format!(
                "batch {batch_id} is {}; only a batch awaiting approval can be {what}",
                batch.status
            ),
        ));
    }
    let mut payouts = Vec::with_capacity(payout_ids.len());
    for payout_id in payout_ids {
        match records.payout(payout_id) {
            Some(payout)
                if payout.status == PayoutStatus::Proposed
                    && payout.batch_id.as_ref() == Some(&batch.batch_id) =>
            {
                payouts.push(payout)
            }
            _ => {
                return Err(LedgerError::Inconsistent(format!(
                    "payout {payout_id} is not held by batch {batch_id}"
                )))
            }
        }
    }
    let total: i64 = payouts.iter().map(|p| p.amount_minor).sum();
    if payouts.len() != batch.payout_count as usize || total != batch.total_minor {
        return Err(LedgerError::Inconsistent(format!(
            "batch {batch_id} holds {} payouts, {} were named",
            batch.payout_count,
            payouts.len()
        )));
    }
    Ok((batch, payouts))
}

/// A second treasury user approves a proposed batch: the payouts are
/// instructed and its pain.001 file can be downloaded.
pub struct ApproveBatch {
    actor: Actor,
    by: String,
    batch_id: String,
    /// The payouts the batch holds (read by the caller; checked here).
    payout_ids: Vec<String>,
    /// The fingerprint of the transfers the approver saw, when it saw them.
    seen: Option<String>,
    /// Who created the approver's credential, and so on up (read by the
    /// caller with [`approval_lineages`]); and the proposer's.
    approver_lineage: Vec<String>,
    proposer_lineage: Vec<String>,
}

/// The lineages four eyes compares for `by` approving `batch_id`: who
/// created `by`'s credential and up, and the same for the batch's proposer.
pub fn approval_lineages(
    connection: &mut DbConnection,
    batch_id: &str,
    by: &str,
) -> Result<(Vec<String>, Vec<String>), crate::db::DbError> {
    let approver = crate::services::api_keys::lineage(connection, by)?;
    let proposer = match payouts_db::batch(connection, batch_id)? {
        Some(batch) if !batch.proposed_by.is_empty() => {
            crate::services::api_keys::lineage(connection, &batch.proposed_by)?
        }
        _ => Vec::new(),
    };
    Ok((approver, proposer))
}

impl ApproveBatch {
    pub fn parse(
        actor: Actor,
        by: &str,
        batch_id: &str,
        payout_ids: Vec<String>,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "approving a payout batch")?;
        Ok(ApproveBatch {
            actor,
            by: person(by)?,
            batch_id: batch_id.to_string(),
            payout_ids,
            seen: None,
            approver_lineage: Vec::new(),
            proposer_lineage: Vec::new(),
        })
    }

    /// Who created the approver's and the proposer's credentials (see
    /// [`approval_lineages`]).
    pub fn with_lineages(mut self, (approver, proposer): (Vec<String>, Vec<String>)) -> Self {
        self.approver_lineage = approver;
        self.proposer_lineage = proposer;
        self
    }

    /// Approves only if the transfers are still those the approver saw.
    pub fn as_seen(mut self, digest: &str) -> Self {
        self.seen = Some(digest.trim().to_string());
        self
    }
}

impl Command for ApproveBatch {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let records = context.records();
        let (batch, payouts) = awaiting(records, &self.batch_id, &self.payout_ids, "approved")?;
        // Four eyes: not the proposer, nor a credential the proposer created
        // (directly or through credentials it created), nor the one that
        // created the proposer's.
        let refusal = if batch.proposed_by == self.by {
            Some(format!(
                "you proposed batch {}; another treasury user must approve it",
                batch.batch_id
            ))
        } else if self.approver_lineage.contains(&batch.proposed_by) {
            Some(format!(
                "batch {} was proposed by {}, who created the credential you approve with; another treasury user must approve it",
                batch.batch_id, batch.proposed_by
            ))
        } else if self.proposer_lineage.contains(&self.by) {
            Some(format!(
                "you created the credential that proposed batch {}; another treasury user must approve it",
                batch.batch_id
            ))
        } else {
            None
        };
        if let Some(message) = refusal {
            return Err(reject(
                ErrorCode::SecondApproverRequired,
                Some("batch_id"),
                message,
            ));
        }
        let currency = Currency::parse(&batch.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let (operator, debtor_iban) = paying_operator(records, &self.actor)?;
        let payouts = transfers(records, &payouts)?;
        if let Some(seen) = &self.seen {
            let now = transfers_digest(
                payouts
                    .iter()
                    .map(|p| (p.payout_id.as_str(), p.iban.as_str(), p.amount.as_str())),
            );
            if &now != seen {
                return Err(reject(
                    ErrorCode::IllegalTransition,
                    Some("batch_id"),
                    format!(
                        "batch {} changed since you looked at it (a bank account or a payout); look at it again before approving",
                        batch.batch_id
                    ),
                ));
            }
        }
        let body = PayoutBatchCreated {
            batch_id: batch.batch_id.to_string(),
            currency: batch.currency.clone(),
            total: amount_text(currency, batch.total_minor),
            requested_execution_date: batch.requested_execution_date,
            debtor_name: operator.name,
            debtor_iban,
            debtor_bic: operator.bic,
            payouts,
            proposed_by: Some(batch.proposed_by.clone()),
            approved_by: Some(self.by.clone()),
        };
        pain001::write(&transfer_batch(&body, context.at))
            .map_err(|e| reject(ErrorCode::Pain001Refused, None, e))?;
        let mut postings = PostingsBuilder::new(currency);
        postings
            .debit(accounts::PAYOUTS_PENDING, batch.total_minor)
            .credit(accounts::PAYOUTS_SENT, batch.total_minor);
        Ok(body.draft(self.actor.party.to_string(), postings.finish()))
    }
}

/// Declines a proposed batch (the approver refusing it, or the proposer
/// withdrawing it): its payouts are pending again.
pub struct DeclineBatch {
    actor: Actor,
    by: String,
    batch_id: String,
    payout_ids: Vec<String>,
    reason: String,
}

impl DeclineBatch {
    pub fn parse(
        actor: Actor,
        by: &str,
        batch_id: &str,
        payout_ids: Vec<String>,
        reason: &str,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "declining a payout batch")?;
        Ok(DeclineBatch {
            actor,
            by: person(by)?,
            batch_id: batch_id.to_string(),
            payout_ids,
            reason: check_reason(reason)?,
        })
    }
}

impl Command for DeclineBatch {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let (batch, _) = awaiting(
            context.records(),
            &self.batch_id,
            &self.payout_ids,
            "declined",
        )?;
        let body = PayoutBatchDeclined {
            batch_id: batch.batch_id.to_string(),
            payout_ids: self.payout_ids.clone(),
            declined_by: self.by.clone(),
            reason: self.reason.clone(),
        };
        Ok(body.draft(self.actor.party.to_string(), vec![]))
    }
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
    line.status == BankLineStatus::Suspense && !line.credit && !line.reversal
}

impl Command for ConfirmPayouts {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        operator_only(&self.actor, "confirming payouts")?;
        let line = context
            .records()
            .bank_line(&self.line_id)
            .cloned()
            .ok_or_else(|| {
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
                    if line.credit { "credit" } else { "debit" }
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
            let payout = context.records().payout(payout_id).ok_or_else(|| {
                reject(
                    ErrorCode::NotFound,
                    Some("payout_ids"),
                    format!("no payout {payout_id}"),
                )
            })?;
            if payout.status != PayoutStatus::Sent || payout.currency != line.currency {
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
            line_id: String::from(line.line_id),
            payout_ids: self.payout_ids.clone(),
            currency: currency.code().into(),
            amount: amount_text(currency, total),
            rule: self.rule.clone(),
            matched_by: self.matched_by.clone(),
        };
        Ok(body.draft(self.actor.party.to_string(), postings.finish()))
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
            if payout.status == PayoutStatus::Sent
                && payout.currency == line.currency
                && payout.amount_minor == line.amount_minor
            {
                return Ok(Some((
                    vec![String::from(payout.payout_id)],
                    MatchRule::EndToEndId.as_str(),
                )));
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
            .filter(|p| p.status == PayoutStatus::Sent && p.currency == line.currency)
            .collect();
        let total: i64 = sent.iter().map(|p| p.amount_minor).sum();
        if !sent.is_empty() && total == line.amount_minor {
            return Ok(Some((
                sent.into_iter().map(|p| p.payout_id.into()).collect(),
                MatchRule::PaymentInformationId.as_str(),
            )));
        }
    }
    Ok(None)
}
