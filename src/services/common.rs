//! What the commands of every aggregate share: who acts, refusals with their
//! code, account names, postings, amounts, and loaders with clear errors.
//! `stored` holds the projections' own loaders, whose failures mean the
//! projections disagree with the log.

use crate::domain::syndicate::{AllocationRule, ProgramFunder};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::db::financing::{self as fin_db, InvoiceRow, PartyRow, ProgramRow};
use crate::db::DbConnection;
use crate::domain::terms::{
    DayCount, ProgramTerms, SupplierLimitRule, TRADING_HISTORY_WINDOW_DAYS,
};
use crate::domain::ErrorCode;
use crate::domain::{AccountName, Currency, PartyId, Posting, Role};
use crate::ledger::records::View;
use crate::ledger::LedgerError;

/// Who asks: a party and the role its credential carries.
#[derive(Debug, Clone)]
pub struct Actor {
    pub party: PartyId,
    pub role: Role,
}

impl Actor {
    /// The operator acts for anyone; a party only for itself.
    pub fn may_act_for(&self, party_id: &str) -> bool {
        self.role == Role::Operator || self.party.as_str() == party_id
    }
}

/// A refusal with a stable code and the field at fault.
pub fn reject(code: ErrorCode, field: Option<&str>, message: impl Into<String>) -> LedgerError {
    LedgerError::Rejected {
        code,
        field: field.map(str::to_string),
        message: message.into(),
    }
}

/// A bad input field.
pub fn invalid(field: &str, message: impl Into<String>) -> LedgerError {
    reject(ErrorCode::InvalidField, Some(field), message)
}

/// The chart of accounts (docs/accounting.md).
pub mod accounts {
    pub const BANK: &str = "bank:main";
    pub const PAYOUTS_PENDING: &str = "payouts:pending";
    /// Payouts in a pain.001 batch the bank has not yet shown as debited.
    pub const PAYOUTS_SENT: &str = "payouts:sent";
    pub const UNAPPLIED_CASH: &str = "unapplied-cash";
    /// Where bank debits and reversals wait for treasury.
    pub const BANK_SUSPENSE: &str = "bank-suspense";
    pub fn funder_cash(funder: &str) -> String {
        format!("funder:{funder}:cash")
    }
    pub fn funder_principal(funder: &str) -> String {
        format!("funder:{funder}:principal")
    }
    /// A retailer's own cash for paying its suppliers early (buyer-funded
    /// programmes).
    pub fn retailer_cash(retailer: &str) -> String {
        format!("retailer:{retailer}:cash")
    }
    pub fn retailer_receivable(retailer: &str) -> String {
        format!("retailer:{retailer}:receivable")
    }
    pub fn supplier_reserve(supplier: &str) -> String {
        format!("supplier:{supplier}:reserve")
    }
    pub fn supplier_debt(supplier: &str) -> String {
        format!("supplier:{supplier}:debt")
    }
}

/// Postings in one currency, built as debits and credits; zero lines are dropped.
pub struct PostingsBuilder {
    currency: Currency,
    lines: Vec<Posting>,
}

impl PostingsBuilder {
    pub fn new(currency: Currency) -> Self {
        PostingsBuilder {
            currency,
            lines: Vec::new(),
        }
    }

    fn line(&mut self, account: &str, amount_minor: i64) {
        if amount_minor != 0 {
            let account =
                AccountName::parse(account).expect("account names are built from valid party ids");
            self.lines.push(Posting {
                account,
                currency: self.currency,
                amount_minor,
            });
        }
    }

    pub fn debit(&mut self, account: &str, amount_minor: i64) -> &mut Self {
        self.line(account, amount_minor);
        self
    }

    pub fn credit(&mut self, account: &str, amount_minor: i64) -> &mut Self {
        self.line(account, -amount_minor);
        self
    }

    pub fn finish(self) -> Vec<Posting> {
        self.lines
    }
}

/// An amount as written in entry bodies.
pub fn amount_text(currency: Currency, minor: i64) -> String {
    currency.format_amount(minor)
}

/// Reads an amount written by [`amount_text`].
pub fn parse_amount(currency: Currency, text: &str) -> Result<i64, LedgerError> {
    currency
        .parse_amount_exact(text)
        .map_err(|e| LedgerError::Inconsistent(format!("stored amount: {e}")))
}

/// Parses a positive amount of a request field.
pub fn positive_amount(field: &str, currency: Currency, text: &str) -> Result<i64, LedgerError> {
    let minor = currency
        .parse_amount_exact(text)
        .map_err(|e| invalid(field, e.to_string()))?;
    if minor <= 0 {
        return Err(invalid(
            field,
            format!("{field} must be greater than zero, got {text}"),
        ));
    }
    Ok(minor)
}

/// The party found for `party_id`, refused when missing or not a `role`.
fn holding_role(
    party: Option<PartyRow>,
    party_id: &str,
    role: Role,
    field: &str,
) -> Result<PartyRow, LedgerError> {
    let party = party.ok_or_else(|| {
        reject(
            ErrorCode::UnknownParty,
            Some(field),
            format!("no party {party_id:?}"),
        )
    })?;
    if party.role != role.as_str() {
        return Err(reject(
            ErrorCode::WrongPartyRole,
            Some(field),
            format!("party {party_id} is a {}, not a {role}", party.role),
        ));
    }
    Ok(party)
}

pub fn load_program(
    connection: &mut DbConnection,
    program_id: &str,
) -> Result<ProgramRow, LedgerError> {
    fin_db::program(connection, program_id)?.ok_or_else(|| {
        reject(
            ErrorCode::UnknownProgram,
            Some("program_id"),
            format!("no programme {program_id:?}"),
        )
    })
}

/// A party of `role`, from the writer's records.
pub fn find_party(
    records: View<'_>,
    party_id: &str,
    role: Role,
    field: &str,
) -> Result<PartyRow, LedgerError> {
    holding_role(records.party(party_id).cloned(), party_id, role, field)
}

/// A programme, from the writer's records.
pub fn find_program(records: View<'_>, program_id: &str) -> Result<ProgramRow, LedgerError> {
    records.program(program_id).cloned().ok_or_else(|| {
        reject(
            ErrorCode::UnknownProgram,
            Some("program_id"),
            format!("no programme {program_id:?}"),
        )
    })
}

/// An invoice, from the writer's records.
pub fn find_invoice(records: View<'_>, invoice_id: &str) -> Result<InvoiceRow, LedgerError> {
    records.invoice(invoice_id).cloned().ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("invoice_id"),
            format!("no invoice {invoice_id:?}"),
        )
    })
}

/// The typed terms of a stored programme.
pub fn program_terms(program: &ProgramRow) -> Result<ProgramTerms, LedgerError> {
    let corrupt = |what: &str| {
        LedgerError::Inconsistent(format!(
            "programme {}: stored {what} does not parse",
            program.program_id
        ))
    };
    let decimal = |text: &str, what: &str| Decimal::from_str(text).map_err(|_| corrupt(what));
    let currency = Currency::parse(&program.currency).map_err(|_| corrupt("currency"))?;
    let supplier_limit = match (
        &program.supplier_limit_fixed_minor,
        &program.supplier_limit_multiple,
    ) {
        (Some(cap_minor), None) => SupplierLimitRule::Fixed {
            cap_minor: *cap_minor,
        },
        (None, Some(multiple)) => SupplierLimitRule::TradingHistory {
            multiple: decimal(multiple, "supplier limit multiple")?,
            window_days: TRADING_HISTORY_WINDOW_DAYS,
        },
        _ => return Err(corrupt("supplier limit rule")),
    };
    Ok(ProgramTerms {
        currency,
        advance_rate: decimal(&program.advance_rate, "advance rate")?,
        discount_rate: decimal(&program.discount_rate, "discount rate")?,
        day_count: DayCount::from_str(&program.day_count).map_err(|_| corrupt("day count"))?,
        tenor_min_days: i64::from(program.tenor_min_days),
        tenor_max_days: i64::from(program.tenor_max_days),
        grace_days: i64::from(program.grace_days),
        late_rate: decimal(&program.late_rate, "late rate")?,
        default_days: i64::from(program.default_days),
        recourse: program.recourse,
        program_limit_minor: program.program_limit_minor,
        retailer_limit_minor: program.retailer_limit_minor,
        supplier_limit,
    })
}

/// A programme's allocation rule and its funders in order, lead first.
pub fn program_syndicate(
    program: &ProgramRow,
) -> Result<(AllocationRule, Vec<ProgramFunder>), LedgerError> {
    let corrupt = |what: &str| {
        LedgerError::Inconsistent(format!(
            "programme {}: stored {what} does not parse",
            program.program_id
        ))
    };
    let rule = program
        .allocation
        .parse()
        .map_err(|_| corrupt("allocation rule"))?;
    let funders: Vec<ProgramFunder> =
        serde_json::from_str(&program.funders).map_err(|_| corrupt("funders"))?;
    if funders.is_empty() {
        return Err(corrupt("funders"));
    }
    Ok((rule, funders))
}

/// Parses a `YYYY-MM-DD` date field.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, LedgerError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        invalid(
            field,
            format!("{field} must be a date as YYYY-MM-DD, got {text:?}"),
        )
    })
}

/// A reason typed by a person (a dispute, a declined batch), trimmed.
pub fn check_reason(reason: &str) -> Result<String, LedgerError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > crate::limits::REASON_LENGTH_MAX {
        return Err(invalid("reason", "reason must be 1-500 characters"));
    }
    Ok(reason.to_string())
}

pub fn operator_only(actor: &Actor, what: &str) -> Result<(), LedgerError> {
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

/// The projections' loaders: a missing row means the projections disagree with the log.
pub mod stored {
    use crate::db::bank::BankLineRow;
    use crate::db::financing::{AdvanceRow, InvoiceRow, PayoutRow, SupplierDebtRow};
    use crate::db::payouts::PayoutBatchRow;
    use crate::domain::{Currency, InvoiceStatus};
    use crate::ledger::{BatchContext, LedgerError};

    pub fn currency(code: &str) -> Result<Currency, LedgerError> {
        Currency::parse(code).map_err(|e| LedgerError::Inconsistent(e.to_string()))
    }

    /// A row the entry being projected needs; missing, the log and the
    /// records disagree.
    fn found<T: Clone>(row: Option<&T>, what: impl FnOnce() -> String) -> Result<T, LedgerError> {
        row.cloned()
            .ok_or_else(|| LedgerError::Inconsistent(format!("projector: no {}", what())))
    }

    /// The invoice, from the writer's records.
    pub fn invoice(
        context: &BatchContext<'_>,
        invoice_id: &str,
    ) -> Result<InvoiceRow, LedgerError> {
        found(context.records().invoice(invoice_id), || {
            format!("invoice {invoice_id}")
        })
    }

    /// The advance on the invoice, from the writer's records.
    pub fn advance(
        context: &BatchContext<'_>,
        invoice_id: &str,
    ) -> Result<AdvanceRow, LedgerError> {
        found(context.records().advance(invoice_id), || {
            format!("advance on {invoice_id}")
        })
    }

    /// The supplier debt, from the writer's records.
    pub fn debt(context: &BatchContext<'_>, debt_id: &str) -> Result<SupplierDebtRow, LedgerError> {
        found(context.records().debt(debt_id), || {
            format!("debt {debt_id}")
        })
    }

    /// The bank line, from the writer's records.
    pub fn bank_line(
        context: &BatchContext<'_>,
        line_id: &str,
    ) -> Result<BankLineRow, LedgerError> {
        found(context.records().bank_line(line_id), || {
            format!("bank line {line_id}")
        })
    }

    /// The payout, from the writer's records.
    pub fn payout(context: &BatchContext<'_>, payout_id: &str) -> Result<PayoutRow, LedgerError> {
        found(context.records().payout(payout_id), || {
            format!("payout {payout_id}")
        })
    }

    /// The payout batch, from the writer's records.
    pub fn payout_batch(
        context: &BatchContext<'_>,
        batch_id: &str,
    ) -> Result<PayoutBatchRow, LedgerError> {
        found(context.records().payout_batch(batch_id), || {
            format!("payout batch {batch_id}")
        })
    }

    /// Sets the invoice's status in the writer's records; returns the new row.
    pub fn set_status(
        context: &mut BatchContext<'_>,
        invoice_id: &str,
        status: InvoiceStatus,
    ) -> Result<InvoiceRow, LedgerError> {
        let mut row = invoice(context, invoice_id)?;
        row.status = status;
        context.put_invoice(row.clone());
        Ok(row)
    }

    /// `a + b`, or an inconsistency naming what overflowed.
    pub fn add(a: i64, b: i64, what: &str) -> Result<i64, LedgerError> {
        a.checked_add(b)
            .ok_or_else(|| LedgerError::Inconsistent(format!("projector: {what} overflows")))
    }

    /// `a - b`, or an inconsistency naming what overflowed.
    pub fn sub(a: i64, b: i64, what: &str) -> Result<i64, LedgerError> {
        a.checked_sub(b)
            .ok_or_else(|| LedgerError::Inconsistent(format!("projector: {what} overflows")))
    }
}
