//! What the financing commands share: account names, postings, loaders with
//! clear errors, and payout netting against supplier debts.

use crate::domain::ErrorCode;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::bodies::{DebtRecovery, PayoutInstruction};
use crate::db::financing::{self as fin_db, InvoiceRow, PartyRow, ProgramRow};
use crate::db::DbConnection;
use crate::domain::terms::{
    DayCount, ProgramTerms, SupplierLimitRule, TRADING_HISTORY_WINDOW_DAYS,
};
use crate::domain::{AccountName, Currency, Posting, Role};
use crate::ledger::LedgerError;

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

/// Checks that an imported bank line can be applied whole: it exists, is an
/// unmatched credit, and has this currency and amount.
pub fn check_unmatched_line(
    connection: &mut DbConnection,
    line_id: &str,
    currency: Currency,
    amount_minor: i64,
) -> Result<(), LedgerError> {
    let line = crate::db::bank::line(connection, line_id)?.ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("line_id"),
            format!("no bank line {line_id:?}"),
        )
    })?;
    if line.status != "unmatched" {
        return Err(reject(
            ErrorCode::IllegalTransition,
            Some("line_id"),
            format!(
                "bank line {} is {}, not unmatched",
                line.line_id, line.status
            ),
        ));
    }
    if line.amount_minor != amount_minor || line.currency != currency.code() {
        return Err(invalid(
            "amount",
            "the bank line is applied whole: amount and currency must be the line's",
        ));
    }
    Ok(())
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

pub fn load_party(
    connection: &mut DbConnection,
    party_id: &str,
    role: Role,
    field: &str,
) -> Result<PartyRow, LedgerError> {
    let party = fin_db::party(connection, party_id)?.ok_or_else(|| {
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

pub fn load_invoice(
    connection: &mut DbConnection,
    invoice_id: &str,
) -> Result<InvoiceRow, LedgerError> {
    fin_db::invoice(connection, invoice_id)?.ok_or_else(|| {
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
        recourse: program.recourse != 0,
        program_limit_minor: program.program_limit_minor,
        retailer_limit_minor: program.retailer_limit_minor,
        supplier_limit,
    })
}

/// Nets a supplier's open debts (oldest first) from a payout and posts both:
/// the payout to `payouts:pending`, each recovery back to its funder.
/// `debts_already_taken` lets several payouts of one entry net the same debts.
pub fn net_payout(
    connection: &mut DbConnection,
    supplier_id: &str,
    currency: Currency,
    gross_minor: i64,
    payout_id: String,
    debts_already_taken: &mut Vec<(String, i64)>,
    postings: &mut PostingsBuilder,
) -> Result<PayoutInstruction, LedgerError> {
    let mut remaining = gross_minor;
    let mut recoveries = Vec::new();
    for debt in fin_db::open_debts(connection, supplier_id, currency.code())? {
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
        debts_already_taken.push((debt.debt_id.clone(), recovered));
        postings
            .credit(&accounts::supplier_debt(supplier_id), recovered)
            .debit(&accounts::funder_principal(&debt.funder_id), recovered)
            .credit(&accounts::funder_cash(&debt.funder_id), recovered);
        recoveries.push(DebtRecovery {
            debt_id: debt.debt_id,
            funder_id: debt.funder_id,
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

/// Marks a line explained by the entry `seq` (a payment, a payout confirmation or a reversal).
pub fn mark_line(
    connection: &mut DbConnection,
    line_id: &str,
    rule: &str,
    matched_by: &str,
    seq: i64,
) -> Result<(), LedgerError> {
    let mut line = crate::db::bank::line(connection, line_id)?
        .ok_or_else(|| LedgerError::Inconsistent(format!("projector: no bank line {line_id}")))?;
    line.status = "matched".into();
    line.matched_by = Some(matched_by.into());
    line.match_rule = Some(rule.into());
    line.payment_seq = Some(seq);
    crate::db::bank::update(connection, &line)?;
    Ok(())
}
