//! Registering an invoice, the retailer's decision, and credit notes.

use crate::services::advance::shares as advance_shares;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::NaiveDate;
use serde_json::json;

use super::events::{
    InvoiceConfirmed, InvoiceCredited, InvoiceDecision, InvoiceDisputed, InvoiceRegistered,
    InvoiceRejected,
};
use crate::db::financing as fin_db;
use crate::domain::invoice::{fingerprint, fingerprint_v1, fingerprint_v2, FingerprintFacts};
use crate::domain::text::fold_for_matching;
use crate::domain::PartyStatus;
use crate::domain::{Currency, ErrorCode, InvoiceEvent, InvoiceStatus, Role};
pub use crate::ledger::entry::request_signing_bytes;
use crate::ledger::entry::ActorSignature;
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::services::common::{
    accounts, amount_text, check_reason, find_invoice, find_party, find_program, invalid,
    parse_date, positive_amount, reject, Actor, PostingsBuilder,
};
use crate::services::program::errors::not_enrolled;

fn forbidden(actor: &Actor, what: &str) -> LedgerError {
    reject(
        ErrorCode::Forbidden,
        None,
        format!("{} may not {what}", actor.party),
    )
}

fn check(invoice: &fin_db::InvoiceRow, event: InvoiceEvent) -> Result<InvoiceStatus, LedgerError> {
    let status = invoice.status;
    status.check(event).map_err(|e| {
        reject(
            ErrorCode::IllegalTransition,
            Some("invoice_id"),
            format!("invoice {}: {e}", invoice.invoice_number),
        )
    })?;
    Ok(status)
}

/// Text fields of a new invoice.
#[derive(Debug, Clone)]
pub struct InvoiceFields<'a> {
    pub program_id: &'a str,
    pub supplier_id: &'a str,
    pub invoice_number: &'a str,
    pub issue_date: &'a str,
    pub due_date: &'a str,
    pub currency: &'a str,
    pub amount: &'a str,
    /// `form`, `api` or `ubl`.
    pub channel: &'a str,
    pub document_sha256: Option<String>,
}

/// `invoice.registered`.
pub struct RegisterInvoice {
    actor: Actor,
    /// From an e-invoice: the seller's tax id, which must be the supplier's.
    document_seller_tax_id: Option<String>,
    fields: InvoiceRegistered,
    currency: Currency,
    amount_minor: i64,
}

impl RegisterInvoice {
    /// The invoice's number, as the supplier wrote it.
    pub fn invoice_number(&self) -> &str {
        &self.fields.invoice_number
    }

    pub fn parse(actor: Actor, fields: &InvoiceFields<'_>) -> Result<Self, LedgerError> {
        let invoice_number = fields.invoice_number.trim();
        if invoice_number.is_empty()
            || invoice_number.chars().count() > crate::limits::INVOICE_NUMBER_LENGTH_MAX
        {
            return Err(invalid(
                "invoice_number",
                "invoice_number must be 1-64 characters",
            ));
        }
        let issue_date = parse_date("issue_date", fields.issue_date)?;
        let due_date = parse_date("due_date", fields.due_date)?;
        if due_date < issue_date {
            return Err(invalid(
                "due_date",
                format!("due_date {due_date} is before issue_date {issue_date}"),
            ));
        }
        let currency =
            Currency::parse(fields.currency).map_err(|e| invalid("currency", e.to_string()))?;
        let amount_minor = positive_amount("amount", currency, fields.amount)?;
        if !actor.may_act_for(fields.supplier_id) {
            return Err(forbidden(&actor, "register invoices for another supplier"));
        }
        Ok(RegisterInvoice {
            fields: InvoiceRegistered {
                invoice_id: String::new(),
                program_id: fields.program_id.into(),
                supplier_id: fields.supplier_id.into(),
                retailer_id: String::new(),
                funder_id: String::new(),
                invoice_number: invoice_number.into(),
                issue_date,
                due_date,
                currency: currency.code().into(),
                amount: currency.format_amount(amount_minor),
                fingerprint: String::new(),
                channel: fields.channel.into(),
                document_sha256: fields.document_sha256.clone(),
            },
            actor,
            currency,
            amount_minor,
            document_seller_tax_id: None,
        })
    }

    /// The invoice's number and due date, for what the caller is told.
    pub fn number_and_due_date(&self) -> (&str, NaiveDate) {
        (&self.fields.invoice_number, self.fields.due_date)
    }

    /// Requires the supplier's registered tax id to be the document seller's.
    pub fn with_document_seller(mut self, seller_tax_id: Option<String>) -> Self {
        self.document_seller_tax_id = seller_tax_id;
        self
    }
}

impl RegisterInvoice {
    /// An e-invoice's seller must be the supplier: their tax ids agree, in
    /// letters and digits, when both are known.
    fn check_seller(&self, supplier: &fin_db::PartyRow) -> Result<(), LedgerError> {
        let (Some(document), Some(registered)) = (&self.document_seller_tax_id, &supplier.tax_id)
        else {
            return Ok(());
        };
        let normalized = |text: &str| {
            text.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_uppercase)
                .collect::<String>()
        };
        if normalized(document) != normalized(registered) {
            return Err(reject(
                ErrorCode::SellerMismatch,
                Some("supplier_id"),
                format!(
                    "the document's seller tax id {document} is not {}'s ({registered})",
                    supplier.party_id
                ),
            ));
        }
        Ok(())
    }
}

impl Command for RegisterInvoice {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let invoice_id = format!("inv-{}", context.seq);
        let program = find_program(context.records(), &self.fields.program_id)?;
        let supplier = find_party(
            context.records(),
            &self.fields.supplier_id,
            Role::Supplier,
            "supplier_id",
        )?;
        if supplier.status != PartyStatus::Active {
            return Err(reject(
                ErrorCode::SupplierInactive,
                Some("supplier_id"),
                format!("supplier {} is {}", supplier.party_id, supplier.status),
            ));
        }
        if program.currency != self.currency.code() {
            return Err(invalid(
                "currency",
                format!(
                    "programme {} is in {}, the invoice in {}",
                    program.program_id, program.currency, self.currency
                ),
            ));
        }
        self.check_seller(&supplier)?;
        let records = context.records();
        if !records.is_member(program.program_id.as_str(), supplier.party_id.as_str()) {
            return Err(not_enrolled(&supplier.party_id, &program.program_id));
        }
        let facts = FingerprintFacts {
            supplier_tax_id: supplier.tax_id.as_deref().unwrap_or_default(),
            retailer_id: &program.retailer_id,
            invoice_number: &self.fields.invoice_number,
            issue_date: self.fields.issue_date,
            amount_minor: self.amount_minor,
            currency: self.currency,
        };
        let fingerprint = fingerprint(&facts);
        if records.invoice_count() >= crate::limits::INVOICES_MAX {
            return Err(reject(
                ErrorCode::CapacityReached,
                Some("invoice_number"),
                format!(
                    "the ledger already holds {} invoices, as many as it keeps",
                    crate::limits::INVOICES_MAX
                ),
            ));
        }
        let mut existing = records.invoice_by_fingerprint(&fingerprint).cloned();
        // Registered under an earlier fingerprint: the same invoice only when
        // its number and its supplier's tax id fold alike now (version 2
        // folded some distinct numbers alike).
        let folded = |number: &str, tax_id: Option<&str>| {
            (fold_for_matching(number), tax_id.map(fold_for_matching))
        };
        let this = folded(&self.fields.invoice_number, supplier.tax_id.as_deref());
        for earlier in [fingerprint_v2(&facts), fingerprint_v1(&facts)] {
            if existing.is_some() {
                break;
            }
            if let Some(row) = records.invoice_by_fingerprint(&earlier) {
                let tax_id = records
                    .party(row.supplier_id.as_str())
                    .and_then(|p| p.tax_id.as_deref());
                if folded(&row.invoice_number, tax_id) == this {
                    existing = Some(row.clone());
                }
            }
        }
        if let Some(existing) = existing {
            return Err(reject(
                ErrorCode::DuplicateInvoice,
                Some("invoice_number"),
                format!("invoice {} of {} is already registered (as {}); an invoice can be registered and financed once", self.fields.invoice_number, supplier.name, existing.invoice_number),
            ));
        }
        let body = InvoiceRegistered {
            invoice_id,
            retailer_id: program.retailer_id.to_string(),
            funder_id: program.funder_id.to_string(),
            fingerprint,
            ..self.fields.clone()
        };
        Ok(body.draft(self.actor.party.to_string(), vec![]))
    }
}

/// Which of the three kinds a retailer's decision is recorded as.
#[derive(Debug, Clone, Copy)]
enum Decision {
    Confirmed,
    Disputed,
    Rejected,
}

impl Decision {
    fn kind(self) -> &'static str {
        match self {
            Decision::Confirmed => InvoiceConfirmed::KIND,
            Decision::Disputed => InvoiceDisputed::KIND,
            Decision::Rejected => InvoiceRejected::KIND,
        }
    }

    fn draft(
        self,
        body: InvoiceDecision,
        actor: String,
        actor_sig: Option<ActorSignature>,
    ) -> EntryDraft {
        match self {
            Decision::Confirmed => InvoiceConfirmed(body).signed_draft(actor, vec![], actor_sig),
            Decision::Disputed => InvoiceDisputed(body).signed_draft(actor, vec![], actor_sig),
            Decision::Rejected => InvoiceRejected(body).signed_draft(actor, vec![], actor_sig),
        }
    }
}

/// `invoice.confirmed`, `invoice.disputed` or `invoice.rejected` by the retailer.
pub struct RetailerDecision {
    actor: Actor,
    /// The entry kind this decision records.
    recorded_as: Decision,
    event: InvoiceEvent,
    invoice_id: String,
    reason: Option<String>,
    signature_base64: Option<String>,
    /// The registered key the signature was checked against before the
    /// writer ([`RetailerDecision::verify_ahead`]).
    verified_with: Option<String>,
}

impl RetailerDecision {
    /// The retailer confirms the payable. When the retailer has a registered key,
    /// `signature_base64` must sign `{"invoice_id": …}` as [`request_signing_bytes`] says.
    pub fn confirm(actor: Actor, invoice_id: &str, signature_base64: Option<String>) -> Self {
        RetailerDecision {
            actor,
            recorded_as: Decision::Confirmed,
            event: InvoiceEvent::Confirm,
            invoice_id: invoice_id.into(),
            reason: None,
            signature_base64,
            verified_with: None,
        }
    }

    pub fn dispute(actor: Actor, invoice_id: &str, reason: &str) -> Result<Self, LedgerError> {
        Ok(RetailerDecision {
            actor,
            recorded_as: Decision::Disputed,
            event: InvoiceEvent::Dispute,
            invoice_id: invoice_id.into(),
            reason: Some(check_reason(reason)?),
            signature_base64: None,
            verified_with: None,
        })
    }

    pub fn reject(actor: Actor, invoice_id: &str, reason: &str) -> Result<Self, LedgerError> {
        Ok(RetailerDecision {
            actor,
            recorded_as: Decision::Rejected,
            event: InvoiceEvent::Reject,
            invoice_id: invoice_id.into(),
            reason: Some(check_reason(reason)?),
            signature_base64: None,
            verified_with: None,
        })
    }
}

impl RetailerDecision {
    /// Checks a confirmation's signature now, off the writer thread, against
    /// `public_key`, the retailer's registered key as the caller read it. The
    /// writer skips the check when that is still the retailer's key, and
    /// makes it otherwise: a key changed meanwhile is never trusted, and a
    /// signature that fails here fails there, with the same refusal.
    pub fn verify_ahead(mut self, public_key: &str) -> Self {
        if self.event == InvoiceEvent::Confirm
            && self.verify_signature(public_key, String::new()).is_ok()
        {
            self.verified_with = Some(public_key.to_string());
        }
        self
    }

    /// The confirmation's signature under the retailer's `public_key`:
    /// checked ahead against the same key, or checked now.
    fn signature_under(
        &self,
        public_key: &str,
        key_id: String,
    ) -> Result<ActorSignature, LedgerError> {
        match (&self.verified_with, &self.signature_base64) {
            (Some(verified), Some(signature)) if verified == public_key => Ok(ActorSignature {
                key_id,
                signature: signature.clone(),
            }),
            _ => self.verify_signature(public_key, key_id),
        }
    }

    fn verify_signature(
        &self,
        public_key: &str,
        key_id: String,
    ) -> Result<ActorSignature, LedgerError> {
        let Some(signature_text) = &self.signature_base64 else {
            return Err(reject(
                ErrorCode::SignatureRequired,
                Some("signature"),
                "this retailer has a registered key: sign the confirmation",
            ));
        };
        let bad = || {
            reject(
                ErrorCode::BadSignature,
                Some("signature"),
                "the signature does not verify with the retailer's registered key",
            )
        };
        let key_bytes: [u8; 32] = BASE64
            .decode(public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| LedgerError::Inconsistent("stored public key".into()))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| LedgerError::Inconsistent("stored public key".into()))?;
        let signature_bytes = BASE64.decode(signature_text).map_err(|_| bad())?;
        let signature =
            ed25519_dalek::Signature::from_slice(&signature_bytes).map_err(|_| bad())?;
        let kind = self.recorded_as.kind();
        let message = request_signing_bytes(kind, &json!({"invoice_id": self.invoice_id}));
        key.verify_strict(&message, &signature).map_err(|_| bad())?;
        Ok(ActorSignature {
            key_id,
            signature: signature_text.clone(),
        })
    }
}

impl Command for RetailerDecision {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let invoice = find_invoice(context.records(), &self.invoice_id)?;
        // Only the retailer itself may decide on its payables; not even the operator.
        if self.actor.party != invoice.retailer_id {
            return Err(reject(
                ErrorCode::NotFound,
                Some("invoice_id"),
                format!("no invoice {:?}", self.invoice_id),
            ));
        }
        check(&invoice, self.event)?;
        let retailer = find_party(
            context.records(),
            &invoice.retailer_id,
            Role::Retailer,
            "retailer_id",
        )?;
        let actor_sig = match (&retailer.public_key, self.event) {
            (Some(public_key), InvoiceEvent::Confirm) => {
                Some(self.signature_under(public_key, retailer.key_id.clone().unwrap_or_default())?)
            }
            _ => None,
        };
        // The reference is derived from the invoice's own seq, so it is unique and replayable.
        let creditor_reference = match self.event {
            InvoiceEvent::Confirm => {
                let seq = invoice.registered_seq;
                Some(
                    crate::domain::creditor_reference::creditor_reference(&format!("SCF{seq}"))
                        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?,
                )
            }
            _ => None,
        };
        let body = InvoiceDecision {
            invoice_id: self.invoice_id.clone(),
            creditor_reference,
            reason: self.reason.clone(),
        };
        Ok(self
            .recorded_as
            .draft(body, self.actor.party.to_string(), actor_sig))
    }
}

/// `invoice.credited`: a credit note dilutes the invoice.
pub struct CreditNote {
    actor: Actor,
    invoice_id: String,
    credit_note_number: String,
    amount: String,
}

impl CreditNote {
    pub fn parse(
        actor: Actor,
        invoice_id: &str,
        credit_note_number: &str,
        amount: &str,
    ) -> Result<Self, LedgerError> {
        let number = credit_note_number.trim();
        if number.is_empty() || number.chars().count() > crate::limits::INVOICE_NUMBER_LENGTH_MAX {
            return Err(invalid(
                "credit_note_number",
                "credit_note_number must be 1-64 characters",
            ));
        }
        Ok(CreditNote {
            actor,
            invoice_id: invoice_id.into(),
            credit_note_number: number.into(),
            amount: amount.into(),
        })
    }
}

impl Command for CreditNote {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        let invoice = find_invoice(context.records(), &self.invoice_id)?;
        if !self.actor.may_act_for(&invoice.supplier_id) && self.actor.party != invoice.retailer_id
        {
            return Err(reject(
                ErrorCode::NotFound,
                Some("invoice_id"),
                format!("no invoice {:?}", self.invoice_id),
            ));
        }
        check(&invoice, InvoiceEvent::CreditNote)?;
        let paid_early = context.records().advance(&invoice.invoice_id).is_some()
            && find_program(context.records(), &invoice.program_id)?.buyer_funded();
        if paid_early {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("invoice_id"),
                format!(
                    "invoice {} was paid early by its retailer: settle a credit note on it with the retailer directly",
                    invoice.invoice_number
                ),
            ));
        }
        let currency = Currency::parse(&invoice.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let credit = positive_amount("amount", currency, &self.amount)?;
        let open = invoice.open_minor();
        if credit > open {
            return Err(invalid(
                "amount",
                format!(
                    "the credit note ({}) exceeds what is open on the invoice ({})",
                    amount_text(currency, credit),
                    amount_text(currency, open)
                ),
            ));
        }
        let mut postings = PostingsBuilder::new(currency);
        let (mut reserve_reduced, mut supplier_debt, mut debt_id, mut funder_id) =
            (0, 0, None, None);
        let mut debts = Vec::new();
        if let Some(advance) = context.records().advance(&invoice.invoice_id).cloned() {
            let reserve_open = (open - advance.principal_outstanding_minor).max(0);
            reserve_reduced = credit.min(reserve_open);
            supplier_debt = credit - reserve_reduced;
            postings
                .credit(&accounts::retailer_receivable(&invoice.retailer_id), credit)
                .debit(
                    &accounts::supplier_reserve(&invoice.supplier_id),
                    reserve_reduced,
                )
                .debit(
                    &accounts::supplier_debt(&invoice.supplier_id),
                    supplier_debt,
                );
            if supplier_debt > 0 {
                // Each funder's claim moves to the supplier by what its
                // share has outstanding, as a debt of its own.
                let shares = context.records().shares(&invoice.invoice_id);
                let parts = advance_shares::over_outstanding(shares, supplier_debt);
                let ids = advance_shares::debt_ids(seq, &parts);
                let lead = ids.iter().position(Option::is_some);
                debt_id = lead.and_then(|i| ids[i].clone());
                funder_id = lead.map(|i| shares[i].funder_id.clone());
                debts = advance_shares::listed(currency, shares, &parts, Some(&ids));
            }
        }
        let body = InvoiceCredited {
            invoice_id: String::from(invoice.invoice_id),
            credit_note_number: self.credit_note_number.clone(),
            currency: currency.code().into(),
            amount: amount_text(currency, credit),
            reserve_reduced: amount_text(currency, reserve_reduced),
            supplier_debt: amount_text(currency, supplier_debt),
            debt_id,
            funder_id: funder_id.map(String::from),
            debts,
        };
        Ok(body.draft(self.actor.party.to_string(), postings.finish()))
    }
}
