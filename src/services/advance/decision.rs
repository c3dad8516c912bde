//! The automatic advance decision: every rule is evaluated with its input and
//! threshold, and an accepted advance records them all.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::disclosure::withhold_confidential;
use super::events::RuleOutcome;
use crate::db::financing::{self as fin_db, InvoiceRow, ProgramRow};
use crate::db::{log as log_db, DbConnection};
use crate::domain::pricing::{price, round_minor, Pricing};
use crate::domain::terms::{ProgramTerms, SupplierLimitRule, DEFAULT_LOOKBACK_DAYS};
use crate::domain::PartyStatus;
use crate::domain::{Currency, InvoiceStatus, Role};
use crate::ledger::LedgerError;
use crate::services::common::{
    accounts, amount_text, load_invoice, load_party, load_program, program_terms,
};

/// A quote: the price and every rule's outcome.
#[derive(Debug, Clone)]
pub struct Quote {
    pub invoice: InvoiceRow,
    pub program: ProgramRow,
    pub terms: ProgramTerms,
    pub currency: Currency,
    pub face_open_minor: i64,
    pub pricing: Pricing,
    pub rules: Vec<RuleOutcome>,
}

impl Quote {
    /// Whether every rule passed.
    pub fn eligible(&self) -> bool {
        self.rules.iter().all(|r| r.passed)
    }

    /// The failing rules, as one sentence; other parties' figures are
    /// withheld unless `sees_everything` (the operator).
    pub fn refusal(&self, sees_everything: bool) -> String {
        let rules = if sees_everything {
            self.rules.clone()
        } else {
            withhold_confidential(&self.rules)
        };
        let failed: Vec<String> = rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| format!("{} (input {}, threshold {})", r.rule, r.input, r.threshold))
            .collect();
        format!("advance declined: {}", failed.join("; "))
    }

    /// Effective annual cost of the advance to the supplier: fee / net × basis / days.
    pub fn effective_annual_rate(&self) -> Option<Decimal> {
        if self.pricing.net_minor <= 0 || self.pricing.days <= 0 {
            return None;
        }
        let rate = Decimal::from(self.pricing.fee_minor) / Decimal::from(self.pricing.net_minor)
            * Decimal::from(self.terms.day_count.basis_days())
            / Decimal::from(self.pricing.days);
        Some(rate.round_dp(4))
    }
}

fn rule(rule: &str, input: String, threshold: String, passed: bool) -> RuleOutcome {
    RuleOutcome {
        rule: rule.into(),
        input,
        threshold,
        passed,
    }
}

/// Evaluates the decision for `invoice_id` on `today`. `funder_available_minor`
/// is the funder's undeployed cash (including the batch's pending changes).
pub fn evaluate(
    connection: &mut DbConnection,
    invoice_id: &str,
    today: NaiveDate,
    funder_available: &mut dyn FnMut(
        &mut DbConnection,
        &ProgramRow,
        Currency,
    ) -> Result<i64, LedgerError>,
) -> Result<Quote, LedgerError> {
    let invoice = load_invoice(connection, invoice_id)?;
    let program = load_program(connection, &invoice.program_id)?;
    let terms = program_terms(&program)?;
    let currency = terms.currency;
    let face_open = invoice.amount_minor - invoice.credited_minor - invoice.paid_minor;
    let pricing = price(face_open, &terms, today, invoice.due_date).ok_or_else(|| {
        LedgerError::Inconsistent(format!("pricing invoice {invoice_id} overflows"))
    })?;
    let mut rules = eligibility_rules(connection, &invoice, &terms, &pricing, today)?;
    rules.extend(limit_rules(
        connection,
        &invoice,
        &terms,
        pricing.principal_minor,
        today,
    )?);
    let available = funder_available(connection, &program, currency)?;
    rules.push(rule(
        "funder_liquidity",
        format!("{} available", amount_text(currency, available)),
        format!("net {}", amount_text(currency, pricing.net_minor)),
        available >= pricing.net_minor,
    ));
    Ok(Quote {
        invoice,
        program,
        terms,
        currency,
        face_open_minor: face_open,
        pricing,
        rules,
    })
}

/// The rules about the invoice and its supplier: confirmed, not disputed, not
/// financed yet, within the tenor, an active supplier without a recent
/// default, and something to advance.
fn eligibility_rules(
    connection: &mut DbConnection,
    invoice: &InvoiceRow,
    terms: &ProgramTerms,
    pricing: &Pricing,
    today: NaiveDate,
) -> Result<Vec<RuleOutcome>, LedgerError> {
    let status = invoice.status;
    let mut rules = vec![
        rule(
            "confirmed",
            status.to_string(),
            "confirmed".into(),
            status == InvoiceStatus::Confirmed || status == InvoiceStatus::Financed,
        ),
        rule(
            "not_disputed",
            status.to_string(),
            "not disputed or rejected".into(),
            !matches!(status, InvoiceStatus::Disputed | InvoiceStatus::Rejected),
        ),
    ];
    let financed = fin_db::advance(connection, &invoice.invoice_id)?.is_some();
    rules.push(rule(
        "not_financed",
        if financed { "financed" } else { "not financed" }.into(),
        "not financed".into(),
        !financed,
    ));
    rules.push(rule(
        "tenor",
        format!("{} days", pricing.days),
        format!("{}-{} days", terms.tenor_min_days, terms.tenor_max_days),
        (terms.tenor_min_days..=terms.tenor_max_days).contains(&pricing.days),
    ));
    let supplier = load_party(
        connection,
        &invoice.supplier_id,
        Role::Supplier,
        "supplier_id",
    )?;
    rules.push(rule(
        "supplier_active",
        supplier.status.to_string(),
        "active".into(),
        supplier.status == PartyStatus::Active,
    ));
    let since = today - Duration::days(DEFAULT_LOOKBACK_DAYS);
    let defaulted = fin_db::supplier_defaulted_since(connection, &invoice.supplier_id, since)?;
    rules.push(rule(
        "no_default_365_days",
        if defaulted { "defaulted" } else { "none" }.into(),
        format!("no default since {since}"),
        !defaulted,
    ));
    rules.push(rule(
        "positive_principal",
        amount_text(terms.currency, pricing.principal_minor),
        "more than 0".into(),
        pricing.principal_minor > 0,
    ));
    Ok(rules)
}

/// The supplier's limit under the programme's rule: a fixed cap, or a
/// multiple of what it settled in the trading-history window.
pub fn supplier_limit_minor(
    connection: &mut DbConnection,
    supplier_id: &str,
    terms: &ProgramTerms,
    today: NaiveDate,
) -> Result<i64, LedgerError> {
    Ok(match &terms.supplier_limit {
        SupplierLimitRule::Fixed { cap_minor } => *cap_minor,
        SupplierLimitRule::TradingHistory {
            multiple,
            window_days,
        } => {
            let volume = fin_db::settled_volume_minor(
                connection,
                supplier_id,
                terms.currency.code(),
                today - Duration::days(*window_days),
            )?;
            round_minor(Decimal::from(volume) * multiple).unwrap_or(i64::MAX)
        }
    })
}

/// The supplier, retailer and programme limits, each with what is used, plus
/// this principal, against the limit.
fn limit_rules(
    connection: &mut DbConnection,
    invoice: &InvoiceRow,
    terms: &ProgramTerms,
    principal: i64,
    today: NaiveDate,
) -> Result<Vec<RuleOutcome>, LedgerError> {
    let money = |minor: i64| amount_text(terms.currency, minor);
    let limit_rule = |name: &str, used: i64, limit: i64| {
        let after = used.saturating_add(principal);
        rule(
            name,
            format!(
                "{} used + {} = {}",
                money(used),
                money(principal),
                money(after)
            ),
            money(limit),
            after <= limit,
        )
    };
    let program_id = &invoice.program_id;
    let supplier_used = fin_db::outstanding_principal_minor(
        connection,
        program_id,
        Some(&invoice.supplier_id),
        None,
    )?;
    let supplier_limit = supplier_limit_minor(connection, &invoice.supplier_id, terms, today)?;
    let retailer_used = fin_db::outstanding_principal_minor(
        connection,
        program_id,
        None,
        Some(&invoice.retailer_id),
    )?;
    let program_used = fin_db::outstanding_principal_minor(connection, program_id, None, None)?;
    Ok(vec![
        limit_rule("supplier_limit", supplier_used, supplier_limit),
        limit_rule("retailer_limit", retailer_used, terms.retailer_limit_minor),
        limit_rule("program_limit", program_used, terms.program_limit_minor),
    ])
}

/// A quote from stored state (read-only; nothing is written).
pub fn quote(
    connection: &mut DbConnection,
    invoice_id: &str,
    today: NaiveDate,
) -> Result<Quote, LedgerError> {
    evaluate(
        connection,
        invoice_id,
        today,
        &mut |connection, program, currency| {
            Ok(-log_db::balance(
                connection,
                &accounts::funder_cash(&program.funder_id),
                currency.code(),
            )?)
        },
    )
}
