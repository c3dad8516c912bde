//! The receipt of one ledger entry: what happened in plain words (how much,
//! to which account, when, what comes next), then the proof, collapsed, for
//! whoever wants to check it without trusting us.
//!
//! The words come from one exhaustive match on [`Event`], so a new entry kind
//! does not compile until it says what it means to the people who read it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::pages::{date, html, principal, read, Layout};
use super::session::{PageError, Session};
use crate::db::financing::{self as fin_db, InvoiceRow, PartyRow, PayoutRow};
use crate::db::DbConnection;
use crate::domain::{Currency, PayoutStatus, Role};
use crate::ledger::Entry;
use crate::server::AppState;
use crate::services::api_keys::Principal;
use crate::services::events::Event;
use crate::services::log_reads::{self, ReadError};
use crate::services::reads;

/// What an entry means, for the person reading it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub headline: String,
    /// Label and value, in reading order.
    pub facts: Vec<(String, String)>,
    /// What happens next, if anything does.
    pub next: Option<String>,
}

impl Summary {
    fn new(headline: impl Into<String>) -> Summary {
        Summary {
            headline: headline.into(),
            ..Summary::default()
        }
    }

    fn fact(mut self, label: impl Into<String>, value: impl Into<String>) -> Summary {
        self.facts.push((label.into(), value.into()));
        self
    }

    fn next(mut self, text: impl Into<String>) -> Summary {
        self.next = Some(text.into());
        self
    }
}

/// The rows an entry's words name, read once each.
pub struct Names<'c> {
    connection: &'c mut DbConnection,
    parties: HashMap<String, Option<PartyRow>>,
    invoices: HashMap<String, Option<InvoiceRow>>,
}

impl<'c> Names<'c> {
    pub fn new(connection: &'c mut DbConnection) -> Names<'c> {
        Names {
            connection,
            parties: HashMap::new(),
            invoices: HashMap::new(),
        }
    }

    fn party_row(&mut self, id: &str) -> Result<Option<&PartyRow>, ReadError> {
        if !self.parties.contains_key(id) {
            let row = fin_db::party(self.connection, id)?;
            self.parties.insert(id.to_string(), row);
        }
        Ok(self.parties[id].as_ref())
    }

    /// A party's name; its id only if the party is unknown.
    pub fn party(&mut self, id: &str) -> Result<String, ReadError> {
        Ok(self
            .party_row(id)?
            .map_or_else(|| id.to_string(), |p| p.name.clone()))
    }

    /// The bank account a party's payouts go to, spaced as people write it.
    pub fn account_of(&mut self, id: &str) -> Result<String, ReadError> {
        Ok(match self.party_row(id)?.and_then(|p| p.iban.clone()) {
            Some(iban) => spaced_iban(&iban),
            None => "no bank account yet".into(),
        })
    }

    fn invoice_row(&mut self, id: &str) -> Result<Option<&InvoiceRow>, ReadError> {
        if !self.invoices.contains_key(id) {
            let row = fin_db::invoice(self.connection, id)?;
            self.invoices.insert(id.to_string(), row);
        }
        Ok(self.invoices[id].as_ref())
    }

    /// Whether the invoice is the viewer's: its supplier's, buyer's or
    /// funder's (the operator and auditors read every one).
    pub fn invoice_concerns(&mut self, id: &str, viewer: &Principal) -> Result<bool, ReadError> {
        if matches!(viewer.role, Role::Operator | Role::Auditor) {
            return Ok(true);
        }
        let party = viewer.party.as_str();
        Ok(self.invoice_row(id)?.is_some_and(|i| {
            i.supplier_id.as_str() == party
                || i.retailer_id.as_str() == party
                || i.funder_id.as_str() == party
        }))
    }

    /// An invoice's number, as its supplier wrote it.
    pub fn invoice(&mut self, id: &str) -> Result<String, ReadError> {
        Ok(self
            .invoice_row(id)?
            .map_or_else(|| id.to_string(), |i| i.invoice_number.clone()))
    }

    fn payout(&mut self, id: &str) -> Result<Option<PayoutRow>, ReadError> {
        Ok(crate::db::payouts::payout(self.connection, id)?)
    }
}

/// "DE89 3704 0044 0532 0130 00".
pub fn spaced_iban(iban: &str) -> String {
    let compact: Vec<char> = iban.chars().filter(|c| !c.is_whitespace()).collect();
    compact
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// "8,820.00 EUR" from an entry's "8820.00".
fn amount(currency: &str, text: &str) -> String {
    Currency::parse(currency)
        .and_then(|c| c.parse_amount_exact(text).map(|m| c.format_display(m)))
        .unwrap_or_else(|_| format!("{text} {currency}"))
}

fn is_zero(text: &str) -> bool {
    text.trim_start_matches('-')
        .bytes()
        .all(|b| b == b'0' || b == b'.')
}

/// "90%" from "0.90".
fn rate(text: &str) -> String {
    text.parse::<rust_decimal::Decimal>()
        .map_or_else(|_| text.to_string(), super::pages::percent)
}

/// Where a payout stands, in the words the supplier reads everywhere.
pub fn payout_stage(payout: Option<&PayoutRow>) -> &'static str {
    match payout.map(|p| p.status) {
        None | Some(PayoutStatus::Pending) => "waiting for the next payout batch",
        Some(PayoutStatus::Proposed) => {
            "in a payout batch that waits for a second treasury user's approval"
        }
        Some(PayoutStatus::Sent) => "instructed to the bank, not yet seen leaving our account",
        Some(PayoutStatus::Confirmed) => "paid: the bank statement shows it left our account",
        Some(PayoutStatus::Cancelled) => "cancelled, because the payment behind it was reversed",
    }
}

/// The parts of an entry the viewer may read: a supplier sees its own
/// invoices of a payment, never another supplier's figures.
fn sees_supplier(viewer: &Principal, supplier_id: &str) -> bool {
    viewer.role != Role::Supplier || viewer.party.as_str() == supplier_id
}

/// Whether the viewer reads the financing of an invoice (the operator and
/// auditors, its supplier, its funder), not only its amounts (its buyer).
fn sees_financing(viewer: &Principal, supplier_id: &str, funder_id: Option<&str>) -> bool {
    let party = viewer.party.as_str();
    match viewer.role {
        Role::Operator | Role::Auditor => true,
        Role::Supplier => party == supplier_id,
        Role::Funder => funder_id == Some(party),
        Role::Retailer => false,
    }
}

/// Whether an allocation of a payment is the viewer's to read: the payer
/// reads every one of its payment, a supplier or funder its own.
fn sees_allocation(viewer: &Principal, supplier_id: &str, funder_id: Option<&str>) -> bool {
    viewer.role == Role::Retailer || sees_financing(viewer, supplier_id, funder_id)
}

/// "1,234.56" from minor units, for sums of an entry's amounts.
fn sum_text(currency: &str, minor: i64) -> String {
    Currency::parse(currency)
        .map(|c| c.format_display(minor))
        .unwrap_or_else(|_| format!("{minor} {currency}"))
}

fn minor_of(currency: &str, text: &str) -> i64 {
    Currency::parse(currency)
        .and_then(|c| c.parse_amount_exact(text))
        .unwrap_or(0)
}

/// The plain words of one entry, for `viewer`.
// Long: one arm per entry kind, each a few lines of words.
pub fn describe(
    event: &Event,
    viewer: &Principal,
    names: &mut Names<'_>,
) -> Result<Summary, ReadError> {
    let yours = |id: &str| viewer.party.as_str() == id;
    Ok(match event {
        Event::JournalPosted(journal) => {
            Summary::new("A journal entry by the platform's operator").fact("Memo", &journal.memo)
        }
        Event::PartyRegistered(party) => Summary::new(format!("{} joined the platform", party.name))
            .fact("As", party.role.clone()),
        Event::BankAccountSet(account) => Summary::new(if account.approves_request_seq.is_some() {
            format!(
                "Change of bank account of {} approved",
                names.party(&account.party_id)?
            )
        } else {
            format!("Bank account of {} set", names.party(&account.party_id)?)
        })
        .fact("IBAN", spaced_iban(&account.iban))
        .next("Payouts to this party go to this account from now on."),
        Event::BankAccountRequested(request) => Summary::new(format!(
            "{} asked to be paid to another bank account",
            names.party(&request.party_id)?
        ))
        .fact("New IBAN", spaced_iban(&request.iban))
        .fact("Asked by", request.requested_by.clone())
        .next("Payouts are held until the platform's treasury approves the change; they then go to the new account."),
        Event::BankAccountRequestDeclined(declined) => Summary::new(format!(
            "Change of bank account of {} declined",
            names.party(&declined.party_id)?
        ))
        .fact("Reason", declined.reason.clone())
        .next("Payouts go to the account the party had before."),
        Event::ProgramCreated(program) => {
            let funded_by = if program.early_payment_budget.is_some() {
                ("Paid early by", format!("{}, from its own cash", names.party(&program.retailer_id)?))
            } else if program.funders.len() > 1 {
                let mut funders = Vec::with_capacity(program.funders.len());
                for funder in &program.funders {
                    funders.push(names.party(&funder.funder_id)?);
                }
                let rule = match program.allocation.as_deref() {
                    Some("pro_rata") => "shared by commitment",
                    _ => "in this order",
                };
                ("Funders", format!("{} ({rule})", funders.join(", ")))
            } else {
                ("Funder", names.party(&program.funder_id)?)
            };
            Summary::new(format!(
                "Financing programme of {} created",
                names.party(&program.retailer_id)?
            ))
            .fact(funded_by.0, funded_by.1)
            .fact("Advance rate", rate(&program.advance_rate))
            .fact("Discount rate", format!("{} a year", rate(&program.discount_rate)))
            .fact(
                "Invoices due in",
                format!("{} to {} days", program.tenor_min_days, program.tenor_max_days),
            )
            .fact("Programme limit", amount(&program.currency, &program.program_limit))
        }
        Event::SupplierEnrolled(enrolment) => Summary::new(format!(
            "{} can now finance invoices to {}",
            names.party(&enrolment.supplier_id)?,
            names.party(&enrolment.retailer_id)?
        )),
        Event::FunderDeposited(deposit) => Summary::new(format!(
            "{} placed {}",
            names.party(&deposit.funder_id)?,
            amount(&deposit.currency, &deposit.amount)
        ))
        .next("The money finances invoices of the funder's programmes, or, placed by a buyer, pays its suppliers early."),
        Event::InvoiceRegistered(invoice) => Summary::new(format!(
            "Invoice {} registered",
            invoice.invoice_number
        ))
        .fact("Supplier", names.party(&invoice.supplier_id)?)
        .fact("Buyer", names.party(&invoice.retailer_id)?)
        .fact("Amount", amount(&invoice.currency, &invoice.amount))
        .fact("Issued", date(invoice.issue_date))
        .fact("Due", date(invoice.due_date))
        .next(format!(
            "{} confirms or disputes it; once confirmed it can be financed.",
            names.party(&invoice.retailer_id)?
        )),
        Event::InvoiceConfirmed(decision) => {
            let number = names.invoice(&decision.0.invoice_id)?;
            let mut summary = Summary::new(format!("Invoice {number} confirmed by the buyer"));
            if let Some(reference) = &decision.0.creditor_reference {
                summary = summary.fact("Payment reference", reference.clone());
            }
            summary.next("The invoice can be financed now: see Get paid now.")
        }
        Event::InvoiceDisputed(decision) => {
            let number = names.invoice(&decision.0.invoice_id)?;
            Summary::new(format!("Invoice {number} disputed by the buyer"))
                .fact(
                    "Reason given",
                    decision.0.reason.clone().unwrap_or_else(|| "none".into()),
                )
                .next("It cannot be financed while disputed. Settle the matter with the buyer; a credit note or a new invoice follows.")
        }
        Event::InvoiceRejected(decision) => {
            let number = names.invoice(&decision.0.invoice_id)?;
            Summary::new(format!("Invoice {number} rejected by the buyer"))
                .fact(
                    "Reason given",
                    decision.0.reason.clone().unwrap_or_else(|| "none".into()),
                )
                .next("It cannot be financed.")
        }
        Event::InvoiceCredited(credit) => {
            let number = names.invoice(&credit.invoice_id)?;
            let mut summary = Summary::new(format!(
                "Credit note {} reduces invoice {number}",
                credit.credit_note_number
            ))
            .fact("By", amount(&credit.currency, &credit.amount));
            if !is_zero(&credit.supplier_debt) {
                summary = summary
                    .fact("Now owed by the supplier", amount(&credit.currency, &credit.supplier_debt))
                    .next("What the supplier owes is taken from its next payouts.");
            }
            summary
        }
        Event::InvoiceMatured(matured) => Summary::new(format!(
            "Invoice {} settled: it was paid early",
            names.invoice(&matured.invoice_id)?
        ))
        .fact("Amount", amount(&matured.currency, &matured.amount))
        .fact("Due date", date(matured.due_date))
        .next("Nothing was transferred today: the early payment settled the invoice."),
        Event::InvoiceOverdue(overdue) => Summary::new(format!(
            "Invoice {} is overdue",
            names.invoice(&overdue.invoice_id)?
        ))
        .fact("As of", date(overdue.as_of))
        .next("Late fees accrue on the advance until the buyer pays."),
        Event::InvoiceDefaulted(default) => {
            let number = names.invoice(&default.invoice_id)?;
            let mut summary = Summary::new(format!("Invoice {number} written off as unpaid"))
                .fact("As of", date(default.as_of))
                .fact("Written off", amount(&default.currency, &default.written_off));
            if default.recourse && !is_zero(&default.principal_shortfall) {
                summary = summary
                    .fact("Owed by the supplier", amount(&default.currency, &default.principal_shortfall))
                    .next("The programme has recourse: the supplier repays the advance from its next payouts.");
            }
            summary
        }
        // The buyer sees that its invoice was financed, not the supplier's price.
        Event::AdvanceAccepted(advance) if advance.paid_early_by_buyer() => {
            let number = names.invoice(&advance.invoice_id)?;
            let discount = format!(
                "Discount ({} a year for {} days early)",
                rate(&advance.discount_rate),
                advance.days
            );
            let due = date(advance.due_date);
            if yours(&advance.retailer_id) {
                Summary::new(format!("You paid invoice {number} early"))
                    .fact("Supplier", names.party(&advance.supplier_id)?)
                    .fact("Invoice amount", amount(&advance.currency, &advance.face_open))
                    .fact(discount, amount(&advance.currency, &advance.fee))
                    .fact("Paid", amount(&advance.currency, &advance.net))
                    .fact("Value date", date(advance.value_date))
                    .next(format!("Nothing more is due: on {due} the invoice is settled without a second transfer. Do not pay it again."))
            } else {
                let payout = names.payout(&advance.payout.payout_id)?;
                let to_supplier = amount(&advance.currency, &advance.payout.amount);
                Summary::new(format!("You are paid {to_supplier} now for invoice {number}"))
                    .fact("Paid early by", names.party(&advance.retailer_id)?)
                    .fact("Invoice amount", amount(&advance.currency, &advance.face_open))
                    .fact(discount, amount(&advance.currency, &advance.fee))
                    .fact("Paid out", to_supplier)
                    .fact("To account", names.account_of(&advance.supplier_id)?)
                    .fact("Payout", payout_stage(payout.as_ref()))
                    .next(format!("The buyer paid from its own cash: on {due} the invoice is settled, with nothing more to collect."))
            }
        }
        Event::AdvanceAccepted(advance) if viewer.role == Role::Retailer => {
            let number = names.invoice(&advance.invoice_id)?;
            Summary::new(format!("Invoice {number} was financed"))
                .fact("Supplier", names.party(&advance.supplier_id)?)
                .fact("Due", date(advance.due_date))
                .next("Pay the invoice as usual by its due date, quoting its payment reference; your payment repays the advance.")
        }
        Event::AdvanceAccepted(advance) => {
            let number = names.invoice(&advance.invoice_id)?;
            let payout = names.payout(&advance.payout.payout_id)?;
            let to_supplier = amount(&advance.currency, &advance.payout.amount);
            let headline = if yours(&advance.supplier_id) {
                format!("You are paid {to_supplier} now for invoice {number}")
            } else {
                format!(
                    "Invoice {number} of {} financed",
                    names.party(&advance.supplier_id)?
                )
            };
            let reserve = Currency::parse(&advance.currency)
                .and_then(|c| {
                    let face = c.parse_amount_exact(&advance.face_open)?;
                    let principal = c.parse_amount_exact(&advance.principal)?;
                    Ok(c.format_display(face - principal))
                })
                .unwrap_or_default();
            Summary::new(headline)
                .fact("Invoice", number)
                .fact("Buyer", names.party(&advance.retailer_id)?)
                .fact("Invoice amount", amount(&advance.currency, &advance.face_open))
                .fact(
                    format!("Advanced ({})", rate(&advance.advance_rate)),
                    amount(&advance.currency, &advance.principal),
                )
                .fact(
                    format!(
                        "Fee ({} a year for {} days)",
                        rate(&advance.discount_rate),
                        advance.days
                    ),
                    amount(&advance.currency, &advance.fee),
                )
                .fact("Paid out", to_supplier)
                .fact("To account", names.account_of(&advance.supplier_id)?)
                .fact("Value date", date(advance.value_date))
                .fact("Payout", payout_stage(payout.as_ref()))
                .next(format!(
                    "When {} pays the invoice, due {}, the advance is repaid from it and the rest, {reserve}, is paid to {}.",
                    names.party(&advance.retailer_id)?,
                    date(advance.due_date),
                    if yours(&advance.supplier_id) { "you" } else { "the supplier" }
                ))
        }
        Event::PaymentReceived(payment) => {
            let currency = payment.currency.as_str();
            let mine: Vec<_> = payment
                .allocations
                .iter()
                .filter(|a| sees_allocation(viewer, &a.supplier_id, a.funder_id.as_deref()))
                .collect();
            // The whole payment is its payer's and the operator's; a supplier
            // or funder reads the part that is on its invoices.
            let whole = matches!(viewer.role, Role::Operator | Role::Auditor | Role::Retailer);
            let shown = if whole {
                amount(currency, &payment.amount)
            } else {
                let applied: i64 = mine
                    .iter()
                    .map(|a| {
                        minor_of(currency, &a.principal)
                            + minor_of(currency, &a.late_fee)
                            + minor_of(currency, &a.supplier)
                    })
                    .sum();
                format!("{} on your invoices", sum_text(currency, applied))
            };
            let payer = if viewer.role == Role::Retailer {
                "You".to_string()
            } else {
                names.party(&payment.retailer_id)?
            };
            let mut summary = Summary::new(format!("{payer} paid {shown}"))
                .fact("Value date", date(payment.value_date))
                .fact("Reference", payment.reference.clone());
            let mut paid_out = false;
            for allocation in mine {
                let number = names.invoice(&allocation.invoice_id)?;
                let status = allocation.status_after.as_str().replace('_', " ");
                if !sees_financing(viewer, &allocation.supplier_id, allocation.funder_id.as_deref()) {
                    // The buyer reads what its payment settled, not how it is split.
                    let applied = minor_of(currency, &allocation.principal)
                        + minor_of(currency, &allocation.late_fee)
                        + minor_of(currency, &allocation.supplier);
                    summary = summary.fact(
                        format!("Invoice {number}"),
                        format!("{} applied (now {status})", sum_text(currency, applied)),
                    );
                    continue;
                }
                let mut parts = Vec::new();
                if allocation.financed {
                    parts.push(format!(
                        "{} repays the advance",
                        amount(currency, &allocation.principal)
                    ));
                }
                if !is_zero(&allocation.late_fee) {
                    parts.push(format!("{} late fee", amount(currency, &allocation.late_fee)));
                }
                if !is_zero(&allocation.supplier) {
                    parts.push(format!(
                        "{} to {}",
                        amount(currency, &allocation.supplier),
                        if yours(&allocation.supplier_id) { "you" } else { "the supplier" }
                    ));
                    paid_out = true;
                }
                summary = summary.fact(
                    format!("Invoice {number}"),
                    format!("{} (now {status})", parts.join(", ")),
                );
            }
            if whole && !is_zero(&payment.unapplied) {
                summary = summary.fact("Not yet applied", amount(currency, &payment.unapplied));
            }
            if paid_out {
                summary.next("The supplier's part goes out in the next payout batch.")
            } else {
                summary
            }
        }
        Event::PaymentReversed(reversal) => {
            let currency = reversal.currency.as_str();
            let whole = matches!(viewer.role, Role::Operator | Role::Auditor);
            let mut numbers = Vec::new();
            let mut undone = 0i64;
            for allocation in &reversal.allocations {
                if whole || names.invoice_concerns(&allocation.invoice_id, viewer)? {
                    numbers.push(names.invoice(&allocation.invoice_id)?);
                    undone += minor_of(currency, &allocation.principal)
                        + minor_of(currency, &allocation.late_fee)
                        + minor_of(currency, &allocation.supplier);
                }
            }
            let shown = if whole {
                amount(currency, &reversal.amount)
            } else {
                format!("{} on your invoices", sum_text(currency, undone))
            };
            Summary::new(format!("A payment of {shown} was reversed by the bank"))
                .fact("Invoices open again", numbers.join(", "))
                .next("Payouts not yet sent from it are cancelled; the invoices wait for the buyer's payment again.")
        }
        Event::BankLineImported(line) => Summary::new(format!(
            "{} {} on the bank statement",
            if line.credit { "Money in:" } else { "Money out:" },
            amount(&line.currency, &line.amount)
        ))
        .fact(
            "Booked",
            line.booking_date.map_or_else(|| "not given".into(), date),
        )
        .fact(
            "From",
            line.debtor_name.clone().unwrap_or_else(|| "not given".into()),
        )
        .fact("Remittance", line.remittance.join(" ")),
        Event::PayoutBatchProposed(batch) => Summary::new(format!(
            "Payout batch of {} proposed",
            amount(&batch.currency, &batch.total)
        ))
        .fact("Execution date", date(batch.requested_execution_date))
        .fact("Payouts", batch.payout_ids.len().to_string())
        .fact("Proposed by", batch.proposed_by.clone())
        .next("Nothing is paid yet: a second treasury user reviews the batch and approves or declines it."),
        Event::PayoutBatchDeclined(batch) => Summary::new(format!(
            "Payout batch {} declined",
            batch.batch_id
        ))
        .fact("Declined by", batch.declined_by.clone())
        .fact("Reason", batch.reason.clone())
        .next("Its payouts wait for the next batch."),
        Event::PayoutBatchCreated(batch) => {
            let headline = if matches!(viewer.role, Role::Operator | Role::Auditor) {
                format!(
                    "Payout batch of {} instructed to the bank",
                    amount(&batch.currency, &batch.total)
                )
            } else {
                let own: i64 = batch
                    .payouts
                    .iter()
                    .filter(|p| yours(&p.party_id))
                    .map(|p| minor_of(&batch.currency, &p.amount))
                    .sum();
                format!(
                    "Your payout of {} was instructed to the bank",
                    sum_text(&batch.currency, own)
                )
            };
            let mut summary = Summary::new(headline)
            .fact("Execution date", date(batch.requested_execution_date));
            if let (Role::Operator | Role::Auditor, Some(proposed), Some(approved)) =
                (viewer.role, &batch.proposed_by, &batch.approved_by)
            {
                summary = summary.fact(
                    "Four eyes",
                    format!("proposed by {proposed}, approved by {approved}"),
                );
            }
            for payout in batch
                .payouts
                .iter()
                .filter(|p| sees_supplier(viewer, &p.party_id))
            {
                summary = summary.fact(
                    format!("To {}", payout.name),
                    format!(
                        "{} to {}",
                        amount(&batch.currency, &payout.amount),
                        spaced_iban(&payout.iban)
                    ),
                );
            }
            summary.next("The payouts read \"instructed\" until the bank statement shows them leaving our account.")
        }
        Event::PayoutConfirmed(confirmed) => Summary::new(format!(
            "The bank confirmed payouts of {}",
            amount(&confirmed.currency, &confirmed.amount)
        ))
        .fact("Payouts", confirmed.payout_ids.len().to_string())
        .next("The money has left our account; it is on its way to the payees."),
    })
}

/// A statement line's words: what kind of thing happened, and the invoices
/// it concerns with their suppliers (a payment may pay several).
pub fn outline(event: &Event) -> (&'static str, Vec<(&str, Option<&str>)>) {
    match event {
        Event::JournalPosted(_) => ("Journal entry by the operator", vec![]),
        Event::PartyRegistered(_) => ("Party registered", vec![]),
        Event::BankAccountSet(_) => ("Bank account set", vec![]),
        Event::BankAccountRequested(_) => ("Change of bank account asked for", vec![]),
        Event::BankAccountRequestDeclined(_) => ("Change of bank account declined", vec![]),
        Event::ProgramCreated(_) => ("Programme created", vec![]),
        Event::SupplierEnrolled(_) => ("Enrolled in a programme", vec![]),
        Event::FunderDeposited(_) => ("Funder deposit", vec![]),
        Event::InvoiceRegistered(i) => (
            "Invoice registered",
            vec![(&i.invoice_id, Some(&i.supplier_id))],
        ),
        Event::InvoiceConfirmed(d) => ("Invoice confirmed", vec![(&d.0.invoice_id, None)]),
        Event::InvoiceDisputed(d) => ("Invoice disputed", vec![(&d.0.invoice_id, None)]),
        Event::InvoiceRejected(d) => ("Invoice rejected", vec![(&d.0.invoice_id, None)]),
        Event::InvoiceCredited(c) => ("Credit note", vec![(&c.invoice_id, None)]),
        Event::InvoiceOverdue(o) => ("Invoice overdue", vec![(&o.invoice_id, None)]),
        Event::InvoiceDefaulted(d) => ("Invoice written off", vec![(&d.invoice_id, None)]),
        Event::InvoiceMatured(m) => (
            "Paid early: settled on its due date",
            vec![(&m.invoice_id, Some(&m.supplier_id))],
        ),
        Event::AdvanceAccepted(a) => (
            "Invoice financed",
            vec![(&a.invoice_id, Some(&a.supplier_id))],
        ),
        Event::PaymentReceived(p) => (
            "Buyer's payment",
            p.allocations
                .iter()
                .map(|a| (a.invoice_id.as_str(), Some(a.supplier_id.as_str())))
                .collect(),
        ),
        Event::PaymentReversed(r) => (
            "Payment reversed by the bank",
            r.allocations
                .iter()
                .map(|a| (a.invoice_id.as_str(), None))
                .collect(),
        ),
        Event::BankLineImported(_) => ("Bank statement line", vec![]),
        Event::PayoutBatchProposed(_) => ("Payout batch proposed", vec![]),
        Event::PayoutBatchDeclined(_) => ("Payout batch declined", vec![]),
        Event::PayoutBatchCreated(_) => ("Payout instructed", vec![]),
        Event::PayoutConfirmed(_) => ("Payout confirmed by the bank", vec![]),
    }
}

/// The numbers of the invoices a statement line concerns, those of `viewer`
/// only, comma-separated.
pub fn invoice_numbers(
    event: &Event,
    viewer: &Principal,
    names: &mut Names<'_>,
) -> Result<(&'static str, String), ReadError> {
    let (title, invoices) = outline(event);
    let mut numbers = Vec::new();
    for (invoice, supplier) in invoices {
        let visible = match supplier {
            Some(s) => sees_supplier(viewer, s),
            None => names.invoice_concerns(invoice, viewer)?,
        };
        if visible {
            let number = names.invoice(invoice)?;
            if !numbers.contains(&number) {
                numbers.push(number);
            }
        }
    }
    Ok((title, numbers.join(", ")))
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    pub layout: Layout,
    pub seq: u64,
    pub at: String,
    pub summary: Summary,
    /// The entry laid out for reading; empty when it is withheld.
    pub entry: String,
    /// The viewer may read the entry whole, and so check its proof.
    pub whole: bool,
    pub leaf_hash: String,
    pub tree_size: u64,
    pub proof: Vec<String>,
    pub checkpoint: String,
}

/// Where the receipt sits in the viewer's navigation.
fn nav_of(role: Role) -> &'static str {
    match role {
        Role::Supplier => "/supplier/advances",
        Role::Retailer => "/retailer/",
        Role::Operator => "/treasury/",
        Role::Funder | Role::Auditor => "/ledger",
    }
}

/// `/receipts/{seq}` (and the older `/supplier/receipts/{seq}`): any entry
/// that concerns the signed-in party.
pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let seq = path.into_inner();
    let who = principal(&session);
    let (canonical, whole, entry, summary, answer) = read(&state, move |c| {
        let (canonical, whole) = reads::entry_concerning(c, &who, seq)?;
        let entry =
            Entry::from_canonical(canonical.as_bytes()).map_err(|e| PageError::internal(&e))?;
        let event = Event::of(&entry).map_err(|e| PageError::internal(&e))?;
        let summary = describe(&event, &who, &mut Names::new(c))?;
        let answer = log_reads::inclusion(c, seq as u64, None)?;
        Ok::<_, PageError>((canonical, whole, entry, summary, answer))
    })
    .await?;
    let value: serde_json::Value =
        serde_json::from_str(&canonical).map_err(|e| PageError::internal(&e))?;
    let hash = |h: &[u8; 32]| crate::api::dto::hash_text(h);
    let page = ReceiptPage {
        layout: Layout::new(&session, "Receipt", nav_of(session.0.role)),
        seq: answer.seq,
        at: entry.at.format("%-d %b %Y, %H:%M UTC").to_string(),
        summary,
        entry: if whole {
            serde_json::to_string_pretty(&value).map_err(|e| PageError::internal(&e))?
        } else {
            String::new()
        },
        whole,
        leaf_hash: hash(&answer.leaf_hash),
        tree_size: answer.tree_size,
        proof: answer.proof.iter().map(hash).collect(),
        checkpoint: answer.checkpoint,
    };
    html(&page, StatusCode::OK)
}

/// The entry itself, as canonical JSON, to keep or check with other tools.
pub async fn json(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let seq = path.into_inner();
    let who = principal(&session);
    let text = read(&state, move |c| reads::entry(c, &who, seq)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"entry-{seq}.json\""),
        ))
        .body(text))
}
