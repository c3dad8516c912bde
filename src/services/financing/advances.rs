//! The automatic advance decision: quote, then accept. Every rule is evaluated
//! with its input and threshold, and an accepted advance records them all.

use crate::domain::ErrorCode;
use crate::services::events::Event;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::bodies::{AdvanceAccepted, RuleOutcome};
use super::common::{
    accounts, amount_text, load_invoice, load_party, load_program, net_payout, program_terms,
    reject, PostingsBuilder,
};
use super::invoices::Actor;
use crate::db::financing::{self as fin_db, InvoiceRow, ProgramRow};
use crate::db::{log as log_db, DbConnection};
use crate::domain::pricing::{price, round_minor, Pricing};
use crate::domain::terms::{ProgramTerms, SupplierLimitRule, DEFAULT_LOOKBACK_DAYS};
use crate::domain::{Currency, InvoiceStatus, Role};
use crate::ledger::{BatchContext, Command, EntryDraft, LedgerError};

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

/// The rules whose figures belong to other parties than the supplier: the
/// retailer's and the programme's exposure and limits, and the funder's cash.
/// A supplier sees whether they passed, never their input or threshold.
pub const CONFIDENTIAL_RULES: [&str; 3] = ["retailer_limit", "program_limit", "funder_liquidity"];

/// What a withheld input or threshold reads.
pub const WITHHELD: &str = "withheld";

/// The rules with the confidential figures withheld.
pub fn withhold_confidential(rules: &[RuleOutcome]) -> Vec<RuleOutcome> {
    rules
        .iter()
        .map(|r| {
            if CONFIDENTIAL_RULES.contains(&r.rule.as_str()) {
                RuleOutcome {
                    rule: r.rule.clone(),
                    input: WITHHELD.into(),
                    threshold: WITHHELD.into(),
                    passed: r.passed,
                }
            } else {
                r.clone()
            }
        })
        .collect()
}

/// The disclosure document of a decision: the confidential rules in full and
/// a random salt, as canonical JSON (RFC 8785). Its SHA-256 is the entry's
/// `confidential_inputs_sha256`; the salt keeps the figures from being
/// guessed from the commitment.
pub fn disclosure_document(salt_hex: &str, rules: &[RuleOutcome]) -> String {
    let confidential: Vec<&RuleOutcome> = rules
        .iter()
        .filter(|r| CONFIDENTIAL_RULES.contains(&r.rule.as_str()))
        .collect();
    let value = serde_json::json!({"salt": salt_hex, "rules": confidential});
    let bytes =
        crate::ledger::jcs::canonical_bytes(&value).expect("rules are strings and booleans");
    String::from_utf8(bytes).expect("canonical JSON is UTF-8")
}

/// SHA-256 (hex) of a disclosure document.
pub fn disclosure_sha256(document: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(document.as_bytes()))
}

/// Checks every stored disclosure against its entry: the commitment, and the
/// same rules with the same outcomes. Returns how many were checked.
pub fn check_disclosures(connection: &mut DbConnection) -> Result<u64, String> {
    let mut checked = 0;
    let mut after = -1;
    loop {
        let rows =
            fin_db::disclosures_after(connection, after, 1_000).map_err(|e| e.to_string())?;
        let Some(last) = rows.last() else {
            return Ok(checked);
        };
        after = last.seq;
        for row in rows {
            let seq = row.seq;
            let text = log_db::entry(connection, seq)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("disclosure {seq}: no entry at seq {seq}"))?;
            let entry = crate::ledger::Entry::from_canonical(text.as_bytes())
                .map_err(|e| format!("entry {seq}: {e}"))?;
            let crate::services::events::Event::AdvanceAccepted(body) =
                crate::services::events::Event::of(&entry).map_err(|e| e.to_string())?
            else {
                return Err(format!("disclosure {seq}: entry {seq} is a {}", entry.kind));
            };
            if body.confidential_inputs_sha256.as_deref() != Some(&disclosure_sha256(&row.document))
            {
                return Err(format!(
                    "disclosure {seq}: its SHA-256 is not the entry's commitment"
                ));
            }
            let disclosed: serde_json::Value = serde_json::from_str(&row.document)
                .map_err(|e| format!("disclosure {seq}: {e}"))?;
            let rules: Vec<RuleOutcome> = serde_json::from_value(disclosed["rules"].clone())
                .map_err(|e| format!("disclosure {seq}: {e}"))?;
            let withheld = withhold_confidential(&rules);
            for rule in &withheld {
                if !body.decision.contains(rule) {
                    return Err(format!(
                        "disclosure {seq}: rule {} does not match the entry's decision",
                        rule.rule
                    ));
                }
            }
            checked += 1;
        }
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
    let money = |minor: i64| amount_text(currency, minor);
    let status: InvoiceStatus = invoice.status.parse().map_err(LedgerError::Inconsistent)?;
    let face_open = invoice.amount_minor - invoice.credited_minor - invoice.paid_minor;
    let pricing = price(face_open, &terms, today, invoice.due_date).ok_or_else(|| {
        LedgerError::Inconsistent(format!("pricing invoice {invoice_id} overflows"))
    })?;
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
    let financed = fin_db::advance(connection, invoice_id)?.is_some();
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
        supplier.status.clone(),
        "active".into(),
        supplier.status == "active",
    ));
    let since = today - Duration::days(DEFAULT_LOOKBACK_DAYS);
    let defaulted = fin_db::supplier_defaulted_since(connection, &invoice.supplier_id, since)?;
    rules.push(rule(
        "no_default_365_days",
        if defaulted { "defaulted" } else { "none" }.into(),
        format!("no default since {since}"),
        !defaulted,
    ));
    let principal = pricing.principal_minor;
    rules.push(rule(
        "positive_principal",
        money(principal),
        "more than 0".into(),
        principal > 0,
    ));
    let supplier_used = fin_db::outstanding_principal_minor(
        connection,
        &program.program_id,
        Some(&invoice.supplier_id),
        None,
    )?;
    let supplier_limit = match &terms.supplier_limit {
        SupplierLimitRule::Fixed { cap_minor } => *cap_minor,
        SupplierLimitRule::TradingHistory {
            multiple,
            window_days,
        } => {
            let volume = fin_db::settled_volume_minor(
                connection,
                &invoice.supplier_id,
                currency.code(),
                today - Duration::days(*window_days),
            )?;
            round_minor(Decimal::from(volume) * multiple).unwrap_or(i64::MAX)
        }
    };
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
    rules.push(limit_rule("supplier_limit", supplier_used, supplier_limit));
    let retailer_used = fin_db::outstanding_principal_minor(
        connection,
        &program.program_id,
        None,
        Some(&invoice.retailer_id),
    )?;
    rules.push(limit_rule(
        "retailer_limit",
        retailer_used,
        terms.retailer_limit_minor,
    ));
    let program_used =
        fin_db::outstanding_principal_minor(connection, &program.program_id, None, None)?;
    rules.push(limit_rule(
        "program_limit",
        program_used,
        terms.program_limit_minor,
    ));
    let available = funder_available(connection, &program, currency)?;
    rules.push(rule(
        "funder_liquidity",
        format!("{} available", money(available)),
        format!("net {}", money(pricing.net_minor)),
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

/// `advance.accepted`: re-evaluates every rule at sequencing time, so of many
/// racing requests for one invoice or one limit exactly the allowed ones win.
pub struct AcceptAdvance {
    pub actor: Actor,
    pub invoice_id: String,
    pub today: NaiveDate,
}

impl Command for AcceptAdvance {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        let pending_cash = |context: &mut BatchContext<'_>, funder: &str, currency: Currency| {
            context.balance_minor(&accounts::funder_cash(funder), currency)
        };
        // The funder's cash including this batch's earlier commands.
        let invoice = load_invoice(context.connection()?, &self.invoice_id)?;
        if !self.actor.may_act_for(&invoice.supplier_id) {
            return Err(reject(
                ErrorCode::NotFound,
                Some("invoice_id"),
                format!("no invoice {:?}", self.invoice_id),
            ));
        }
        let program = load_program(context.connection()?, &invoice.program_id)?;
        if !crate::db::financing::is_member(
            context.connection()?,
            &program.program_id,
            &invoice.supplier_id,
        )? {
            return Err(super::invoices::not_enrolled(
                &invoice.supplier_id,
                &program.program_id,
            ));
        }
        let currency = Currency::parse(&program.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let available = -pending_cash(context, &program.funder_id, currency)?;
        let connection = context.connection()?;
        let quote = evaluate(connection, &self.invoice_id, self.today, &mut |_, _, _| {
            Ok(available)
        })?;
        if !quote.eligible() {
            return Err(reject(
                ErrorCode::AdvanceDeclined,
                Some("invoice_id"),
                quote.refusal(self.actor.role == Role::Operator),
            ));
        }
        let (invoice, pricing) = (&quote.invoice, &quote.pricing);
        let reserve = quote.face_open_minor - pricing.principal_minor;
        let mut postings = PostingsBuilder::new(currency);
        postings
            .debit(
                &accounts::retailer_receivable(&invoice.retailer_id),
                quote.face_open_minor,
            )
            .debit(
                &accounts::funder_cash(&program.funder_id),
                pricing.net_minor,
            )
            .credit(
                &accounts::funder_principal(&program.funder_id),
                pricing.principal_minor,
            )
            .credit(&accounts::supplier_reserve(&invoice.supplier_id), reserve);
        let payout = net_payout(
            connection,
            &invoice.supplier_id,
            currency,
            pricing.net_minor,
            format!("po-{seq}-0"),
            &mut Vec::new(),
            &mut postings,
        )?;
        let body = AdvanceAccepted {
            invoice_id: invoice.invoice_id.clone(),
            program_id: program.program_id.clone(),
            supplier_id: invoice.supplier_id.clone(),
            retailer_id: invoice.retailer_id.clone(),
            funder_id: program.funder_id.clone(),
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
            confidential_inputs_sha256: None,
        };
        // Derived from the ledger key and the seq: unguessable without the
        // key, and the same when the same log is recorded again.
        let salt = context.derived_bytes("disclosure-salt");
        let document = disclosure_document(&hex::encode(salt), &quote.rules);
        let body = AdvanceAccepted {
            confidential_inputs_sha256: Some(disclosure_sha256(&document)),
            ..body
        };
        fin_db::insert_disclosure(
            context.connection()?,
            &fin_db::DisclosureRow {
                seq: seq as i64,
                document,
            },
        )?;
        Ok(Event::AdvanceAccepted(body).draft(self.actor.party.to_string(), postings.finish()))
    }
}
