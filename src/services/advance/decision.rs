//! The automatic advance decision: every rule is evaluated with its input and
//! threshold, and an accepted advance records them all.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::allocation::{allocate, Allocation};
use super::disclosure::withhold_confidential;
use super::events::RuleOutcome;
use crate::db::financing::{InvoiceRow, ProgramRow, WHOLE_PROGRAM};
use crate::domain::pricing::{price, round_minor, Pricing};
use crate::domain::terms::{ProgramTerms, SupplierLimitRule, DEFAULT_LOOKBACK_DAYS};
use crate::domain::PartyStatus;
use crate::domain::{Currency, InvoiceStatus, Role};
use crate::ledger::records::{Tally, View};
use crate::ledger::state::WriterState;
use crate::ledger::{BatchContext, Ledger, LedgerError};
use crate::services::common::{
    accounts, amount_text, find_invoice, find_party, find_program, program_terms,
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
    /// Which funders take it, and how much each.
    pub allocation: Allocation,
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
        let mut failed: Vec<String> = rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| format!("{} (input {}, threshold {})", r.rule, r.input, r.threshold))
            .collect();
        // Why each funder passed on it, to the operator only.
        if sees_everything && self.allocation.parts.is_empty() && self.allocation.recorded {
            failed.extend(
                self.allocation
                    .outcomes
                    .iter()
                    .map(|r| format!("{} (input {}, threshold {})", r.rule, r.input, r.threshold)),
            );
        }
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

/// What the decision reads: the writer's records and balances in memory,
/// never the database. Inside a command ([`BatchContext`]) they include the
/// batch's earlier commands; a quote reads the state as of the last
/// committed batch ([`WriterState`], through `Ledger::read_committed`). The
/// rules are the same for both.
pub trait DecisionFacts {
    fn records(&self) -> View<'_>;
    fn balance_minor(&self, account: &str, currency: Currency) -> Result<i64, LedgerError>;
}

impl DecisionFacts for BatchContext<'_> {
    fn records(&self) -> View<'_> {
        BatchContext::records(self)
    }

    fn balance_minor(&self, account: &str, currency: Currency) -> Result<i64, LedgerError> {
        BatchContext::balance_minor(self, account, currency)
    }
}

impl DecisionFacts for WriterState {
    fn records(&self) -> View<'_> {
        self.records.view()
    }

    fn balance_minor(&self, account: &str, currency: Currency) -> Result<i64, LedgerError> {
        Ok(self.balance(account, currency))
    }
}

/// Evaluates the decision for `invoice_id` on `today` from `facts`.
pub fn evaluate(
    facts: &dyn DecisionFacts,
    invoice_id: &str,
    today: NaiveDate,
) -> Result<Quote, LedgerError> {
    let invoice = find_invoice(facts.records(), invoice_id)?;
    let program = find_program(facts.records(), &invoice.program_id)?;
    let terms = program_terms(&program)?;
    let currency = terms.currency;
    let face_open = invoice.amount_minor - invoice.credited_minor - invoice.paid_minor;
    let pricing = price(face_open, &terms, today, invoice.due_date).ok_or_else(|| {
        LedgerError::Inconsistent(format!("pricing invoice {invoice_id} overflows"))
    })?;
    let mut rules = eligibility_rules(facts, &invoice, &terms, &pricing, today)?;
    rules.extend(limit_rules(
        facts,
        &invoice,
        &terms,
        pricing.principal_minor,
        today,
    )?);
    let allocation = allocate(facts, &program, &invoice, currency, &pricing)?;
    rules.push(if allocation.recorded {
        let allocated = allocation.allocated_minor();
        rule(
            "funder_liquidity",
            format!(
                "{} allocated to {}",
                amount_text(currency, allocated),
                match allocation.parts.len() {
                    1 => "1 funder".to_string(),
                    n => format!("{n} funders"),
                },
            ),
            format!(
                "principal {}",
                amount_text(currency, pricing.principal_minor)
            ),
            allocated == pricing.principal_minor && pricing.principal_minor > 0,
        )
    } else {
        // One funder without concentration limits: its undeployed cash
        // (its cash account is a liability, credit-signed).
        let available =
            -facts.balance_minor(&accounts::funder_cash(&program.funder_id), currency)?;
        rule(
            "funder_liquidity",
            format!("{} available", amount_text(currency, available)),
            format!("net {}", amount_text(currency, pricing.net_minor)),
            available >= pricing.net_minor,
        )
    });
    if let Some(budget) = program.early_payment_budget_minor {
        // A buyer-funded programme pays early within its monthly budget.
        let used = facts.records().tally(
            Tally::paid_out(&program.program_id, today)
                ..=Tally::paid_out(&program.program_id, today),
        );
        let money = |minor| amount_text(currency, minor);
        let after = used.saturating_add(pricing.net_minor);
        rules.push(rule(
            "early_payment_budget",
            format!(
                "{} paid early in {} + {} = {}",
                money(used),
                today.format("%Y-%m"),
                money(pricing.net_minor),
                money(after)
            ),
            money(budget),
            after <= budget,
        ));
    }
    Ok(Quote {
        invoice,
        program,
        terms,
        currency,
        face_open_minor: face_open,
        pricing,
        rules,
        allocation,
    })
}
/// The rules about the invoice and its supplier: confirmed, not disputed, not
/// financed yet, within the tenor, an active supplier without a recent
/// default, and something to advance.
fn eligibility_rules(
    facts: &dyn DecisionFacts,
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
    let records = facts.records();
    let financed = records.advance(&invoice.invoice_id).is_some();
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
    let supplier = find_party(records, &invoice.supplier_id, Role::Supplier, "supplier_id")?;
    rules.push(rule(
        "supplier_active",
        supplier.status.to_string(),
        "active".into(),
        supplier.status == PartyStatus::Active,
    ));
    let since = today - Duration::days(DEFAULT_LOOKBACK_DAYS);
    let defaulted = records.tally(Tally::defaults_since(&invoice.supplier_id, since)) > 0;
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
/// multiple of what it settled in the trading-history window, which
/// `settled_since` gives (face less credits of the supplier's invoices in the
/// programme's currency settled on or after a day).
pub fn supplier_limit_minor<E>(
    terms: &ProgramTerms,
    today: NaiveDate,
    settled_since: impl FnOnce(NaiveDate) -> Result<i64, E>,
) -> Result<i64, E> {
    Ok(match &terms.supplier_limit {
        SupplierLimitRule::Fixed { cap_minor } => *cap_minor,
        SupplierLimitRule::TradingHistory {
            multiple,
            window_days,
        } => {
            let volume = settled_since(today - Duration::days(*window_days))?;
            round_minor(Decimal::from(volume) * multiple).unwrap_or(i64::MAX)
        }
    })
}

/// The supplier, retailer and programme limits, each with what is used, plus
/// this principal, against the limit.
fn limit_rules(
    facts: &dyn DecisionFacts,
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
    let records = facts.records();
    // Principal outstanding in the programme, of one party or of all of it.
    let used = |party: &str| {
        let tally = Tally::exposure(&invoice.program_id, party);
        records.tally(tally.clone()..=tally)
    };
    let supplier = invoice.supplier_id.as_str();
    let supplier_limit = supplier_limit_minor(terms, today, |since| {
        Ok::<_, LedgerError>(records.tally(Tally::settled_since(
            supplier,
            terms.currency.code(),
            since,
        )))
    })?;
    let supplier_used = used(supplier);
    let retailer_used = used(&invoice.retailer_id);
    let program_used = used(WHOLE_PROGRAM);
    Ok(vec![
        limit_rule("supplier_limit", supplier_used, supplier_limit),
        limit_rule("retailer_limit", retailer_used, terms.retailer_limit_minor),
        limit_rule("program_limit", program_used, terms.program_limit_minor),
    ])
}

/// A quote from the writer's state as of its last committed batch (read-only;
/// nothing is written, nothing is read from the database).
pub fn quote(ledger: &Ledger, invoice_id: &str, today: NaiveDate) -> Result<Quote, LedgerError> {
    ledger.read_committed(|state| evaluate(state, invoice_id, today))?
}
