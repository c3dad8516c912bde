//! The automatic advance decision: every rule is evaluated with its input and
//! threshold, and an accepted advance records them all.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::disclosure::withhold_confidential;
use super::events::RuleOutcome;
use crate::db::financing::{self as fin_db, InvoiceRow, PartyRow, ProgramRow, WHOLE_PROGRAM};
use crate::db::{log as log_db, DbConnection};
use crate::domain::pricing::{price, round_minor, Pricing};
use crate::domain::terms::{ProgramTerms, SupplierLimitRule, DEFAULT_LOOKBACK_DAYS};
use crate::domain::PartyStatus;
use crate::domain::{Currency, InvoiceStatus, Role};
use crate::ledger::records::Tally;
use crate::ledger::BatchContext;
use crate::ledger::LedgerError;
use crate::services::common::{
    accounts, amount_text, find_invoice, find_party, find_program, load_invoice, load_party,
    load_program, program_terms,
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

/// What the decision reads. The writer answers from its records in memory
/// ([`BatchContext`]), a quote from the database ([`DbConnection`]); the
/// rules are the same.
pub trait DecisionFacts {
    fn invoice(&mut self, invoice_id: &str) -> Result<InvoiceRow, LedgerError>;
    fn program(&mut self, program_id: &str) -> Result<ProgramRow, LedgerError>;
    fn supplier(&mut self, supplier_id: &str) -> Result<PartyRow, LedgerError>;
    /// Whether the invoice has an advance already.
    fn financed(&mut self, invoice_id: &str) -> Result<bool, LedgerError>;
    /// Whether one of the supplier's invoices defaulted on or after `since`.
    fn defaulted_since(&mut self, supplier_id: &str, since: NaiveDate)
        -> Result<bool, LedgerError>;
    /// Face less credits of the supplier's invoices settled on or after `since`.
    fn settled_volume_minor(
        &mut self,
        supplier_id: &str,
        currency: Currency,
        since: NaiveDate,
    ) -> Result<i64, LedgerError>;
    /// Principal outstanding in the programme, of `party` or, with
    /// [`WHOLE_PROGRAM`], of all of it.
    fn outstanding_principal_minor(
        &mut self,
        program_id: &str,
        party: &str,
    ) -> Result<i64, LedgerError>;
    /// The funder's undeployed cash.
    fn funder_available_minor(
        &mut self,
        funder_id: &str,
        currency: Currency,
    ) -> Result<i64, LedgerError>;
}

/// The writer's facts: its records and balances, including the batch's
/// earlier commands. Nothing is read from the database.
impl DecisionFacts for BatchContext<'_> {
    fn invoice(&mut self, invoice_id: &str) -> Result<InvoiceRow, LedgerError> {
        find_invoice(self, invoice_id)
    }

    fn program(&mut self, program_id: &str) -> Result<ProgramRow, LedgerError> {
        find_program(self, program_id)
    }

    fn supplier(&mut self, supplier_id: &str) -> Result<PartyRow, LedgerError> {
        find_party(self, supplier_id, Role::Supplier, "supplier_id")
    }

    fn financed(&mut self, invoice_id: &str) -> Result<bool, LedgerError> {
        Ok(self.records().advance(invoice_id).is_some())
    }

    fn defaulted_since(
        &mut self,
        supplier_id: &str,
        since: NaiveDate,
    ) -> Result<bool, LedgerError> {
        Ok(self
            .records()
            .tally(Tally::defaults_since(supplier_id, since))
            > 0)
    }

    fn settled_volume_minor(
        &mut self,
        supplier_id: &str,
        currency: Currency,
        since: NaiveDate,
    ) -> Result<i64, LedgerError> {
        let range = Tally::settled_since(supplier_id, currency.code(), since);
        Ok(self.records().tally(range))
    }

    fn outstanding_principal_minor(
        &mut self,
        program_id: &str,
        party: &str,
    ) -> Result<i64, LedgerError> {
        let tally = Tally::exposure(program_id, party);
        Ok(self.records().tally(tally.clone()..=tally))
    }

    fn funder_available_minor(
        &mut self,
        funder_id: &str,
        currency: Currency,
    ) -> Result<i64, LedgerError> {
        Ok(-self.balance_minor(&accounts::funder_cash(funder_id), currency)?)
    }
}

/// The stored facts, for a quote outside the writer.
impl DecisionFacts for DbConnection {
    fn invoice(&mut self, invoice_id: &str) -> Result<InvoiceRow, LedgerError> {
        load_invoice(self, invoice_id)
    }

    fn program(&mut self, program_id: &str) -> Result<ProgramRow, LedgerError> {
        load_program(self, program_id)
    }

    fn supplier(&mut self, supplier_id: &str) -> Result<PartyRow, LedgerError> {
        load_party(self, supplier_id, Role::Supplier, "supplier_id")
    }

    fn financed(&mut self, invoice_id: &str) -> Result<bool, LedgerError> {
        Ok(fin_db::advance(self, invoice_id)?.is_some())
    }

    fn defaulted_since(
        &mut self,
        supplier_id: &str,
        since: NaiveDate,
    ) -> Result<bool, LedgerError> {
        Ok(fin_db::supplier_defaulted_since(self, supplier_id, since)?)
    }

    fn settled_volume_minor(
        &mut self,
        supplier_id: &str,
        currency: Currency,
        since: NaiveDate,
    ) -> Result<i64, LedgerError> {
        Ok(fin_db::settled_volume_minor(
            self,
            supplier_id,
            currency.code(),
            since,
        )?)
    }

    fn outstanding_principal_minor(
        &mut self,
        program_id: &str,
        party: &str,
    ) -> Result<i64, LedgerError> {
        Ok(fin_db::exposure_minor(self, program_id, party)?)
    }

    fn funder_available_minor(
        &mut self,
        funder_id: &str,
        currency: Currency,
    ) -> Result<i64, LedgerError> {
        let account = accounts::funder_cash(funder_id);
        Ok(-log_db::balance(self, &account, currency.code())?)
    }
}

/// Evaluates the decision for `invoice_id` on `today` from `facts`.
pub fn evaluate(
    facts: &mut dyn DecisionFacts,
    invoice_id: &str,
    today: NaiveDate,
) -> Result<Quote, LedgerError> {
    let invoice = facts.invoice(invoice_id)?;
    let program = facts.program(&invoice.program_id)?;
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
    let available = facts.funder_available_minor(&program.funder_id, currency)?;
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
    facts: &mut dyn DecisionFacts,
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
    let financed = facts.financed(&invoice.invoice_id)?;
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
    let supplier = facts.supplier(&invoice.supplier_id)?;
    rules.push(rule(
        "supplier_active",
        supplier.status.to_string(),
        "active".into(),
        supplier.status == PartyStatus::Active,
    ));
    let since = today - Duration::days(DEFAULT_LOOKBACK_DAYS);
    let defaulted = facts.defaulted_since(&invoice.supplier_id, since)?;
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
    facts: &mut dyn DecisionFacts,
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
            let since = today - Duration::days(*window_days);
            let volume = facts.settled_volume_minor(supplier_id, terms.currency, since)?;
            round_minor(Decimal::from(volume) * multiple).unwrap_or(i64::MAX)
        }
    })
}

/// The supplier, retailer and programme limits, each with what is used, plus
/// this principal, against the limit.
fn limit_rules(
    facts: &mut dyn DecisionFacts,
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
    let supplier_used = facts.outstanding_principal_minor(program_id, &invoice.supplier_id)?;
    let supplier_limit = supplier_limit_minor(facts, &invoice.supplier_id, terms, today)?;
    let retailer_used = facts.outstanding_principal_minor(program_id, &invoice.retailer_id)?;
    let program_used = facts.outstanding_principal_minor(program_id, WHOLE_PROGRAM)?;
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
    evaluate(connection, invoice_id, today)
}
