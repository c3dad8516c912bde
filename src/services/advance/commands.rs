//! `advance.accepted`: the supplier accepts the quote.

use super::decision::{evaluate, Quote};
use super::disclosure::{
    disclosure_document, disclosure_sha256, withhold_all, withhold_confidential,
};
use super::events::{AdvanceAccepted, AllocationRecord, FunderShare};
use crate::db::financing::DisclosureRow;
use crate::domain::syndicate::AllocationRule;
use crate::domain::{ErrorCode, Role};
use chrono::NaiveDate;

use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::services::common::{
    accounts, amount_text, find_invoice, reject, Actor, PostingsBuilder,
};
use crate::services::payout::net_payout;
use crate::services::program::errors::not_enrolled;

/// `advance.accepted`: re-evaluates every rule at sequencing time, so of many
/// racing requests for one invoice or one limit exactly the allowed ones win.
pub struct AcceptAdvance {
    pub actor: Actor,
    pub invoice_id: String,
    pub today: NaiveDate,
}

impl AcceptAdvance {
    /// The quote as of this batch, refused when a rule fails. The funder's
    /// cash includes this batch's earlier commands.
    fn eligible_quote(&self, context: &mut BatchContext<'_>) -> Result<Quote, LedgerError> {
        let invoice = find_invoice(context.records(), &self.invoice_id)?;
        if !self.actor.may_act_for(&invoice.supplier_id) {
            return Err(reject(
                ErrorCode::NotFound,
                Some("invoice_id"),
                format!("no invoice {:?}", self.invoice_id),
            ));
        }
        if !context
            .records()
            .is_member(&invoice.program_id, &invoice.supplier_id)
        {
            return Err(not_enrolled(&invoice.supplier_id, &invoice.program_id));
        }
        let quote = evaluate(context, &self.invoice_id, self.today)?;
        if !quote.eligible() {
            return Err(reject(
                ErrorCode::AdvanceDeclined,
                Some("invoice_id"),
                quote.refusal(self.actor.role == Role::Operator),
            ));
        }
        Ok(quote)
    }
}

/// The advance's postings: the retailer owes the face value, each funder
/// pays its net and is owed its principal, and the rest is the supplier's
/// reserve. Paid early from the retailer's own cash (buyer-funded), the
/// retailer pays the net and owes nothing more: no receivable, no reserve.
fn advance_postings(quote: &Quote) -> PostingsBuilder {
    let (invoice, pricing) = (&quote.invoice, &quote.pricing);
    let reserve = quote.face_open_minor - pricing.principal_minor;
    let mut postings = PostingsBuilder::new(quote.currency);
    if quote.allocation.rule == AllocationRule::BuyerFunded {
        postings.debit(
            &accounts::retailer_cash(&invoice.retailer_id),
            pricing.net_minor,
        );
        return postings;
    }
    postings.debit(
        &accounts::retailer_receivable(&invoice.retailer_id),
        quote.face_open_minor,
    );
    for part in &quote.allocation.parts {
        postings
            .debit(&accounts::funder_cash(&part.funder_id), part.net_minor)
            .credit(
                &accounts::funder_principal(&part.funder_id),
                part.principal_minor,
            );
    }
    postings.credit(&accounts::supplier_reserve(&invoice.supplier_id), reserve);
    postings
}

impl Command for AcceptAdvance {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        let quote = self.eligible_quote(context)?;
        let (invoice, program, pricing) = (&quote.invoice, &quote.program, &quote.pricing);
        let currency = quote.currency;
        let mut postings = advance_postings(&quote);
        let payout = net_payout(
            &context.records(),
            &invoice.supplier_id,
            currency,
            pricing.net_minor,
            format!("po-{seq}-0"),
            &mut Vec::new(),
            &mut postings,
        )?;
        // Derived from the ledger key and the seq: unguessable without the
        // key, and the same when the same log is recorded again.
        let salt = context.derived_bytes("disclosure-salt");
        let allocation = &quote.allocation;
        let document = disclosure_document(
            &hex::encode(salt),
            &quote.rules,
            allocation
                .recorded
                .then_some(allocation.outcomes.as_slice()),
        );
        let money = |minor| amount_text(currency, minor);
        let shares = if allocation.parts.len() > 1 {
            allocation
                .parts
                .iter()
                .map(|part| FunderShare {
                    funder_id: part.funder_id.clone(),
                    principal: money(part.principal_minor),
                    fee: money(part.fee_minor),
                    net: money(part.net_minor),
                })
                .collect()
        } else {
            Vec::new()
        };
        // Eligible means allocated in full, so there is a first part.
        let lead = &allocation
            .parts
            .first()
            .ok_or_else(|| {
                LedgerError::Inconsistent(format!(
                    "invoice {}: eligible but allocated to no funder",
                    invoice.invoice_id
                ))
            })?
            .funder_id;
        let body = AdvanceAccepted {
            invoice_id: invoice.invoice_id.to_string(),
            program_id: program.program_id.to_string(),
            supplier_id: invoice.supplier_id.to_string(),
            retailer_id: invoice.retailer_id.to_string(),
            funder_id: lead.clone(),
            currency: currency.code().into(),
            face_open: amount_text(currency, quote.face_open_minor),
            principal: amount_text(currency, pricing.principal_minor),
            fee: amount_text(currency, pricing.fee_minor),
            net: amount_text(currency, pricing.net_minor),
            value_date: pricing.value_date,
            due_date: pricing.due_date,
            days: pricing.days,
            advance_rate: quote.terms.advance_rate.to_string(),
            discount_rate: quote.terms.discount_rate.to_string(),
            day_count: quote.terms.day_count.as_str().into(),
            decision: withhold_confidential(&quote.rules),
            payout,
            confidential_inputs_sha256: Some(disclosure_sha256(&document)),
            allocation: allocation.recorded.then(|| AllocationRecord {
                rule: allocation.rule.to_string(),
                funders: withhold_all(&allocation.outcomes),
            }),
            shares,
        };
        context.changes().add_disclosure(DisclosureRow {
            seq: seq as i64,
            document,
        });
        Ok(body.draft(self.actor.party.to_string(), postings.finish()))
    }
}
