//! Creating a programme and enrolling its suppliers.

use rust_decimal::Decimal;

use super::errors::terms_error;
use super::events::{FunderCommitment, ProgramCreated, SupplierEnrolled};
use crate::domain::syndicate::AllocationRule;
use crate::domain::terms::{parse_rate, DayCount, TermsError};
use crate::domain::{Currency, ErrorCode, PartyId, Role};
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::limits;
use crate::services::common::{find_party, find_program, invalid, positive_amount, reject, Actor};

/// Text fields of a programme, as a form or the API sends them.
#[derive(Debug, Clone, Default)]
pub struct ProgramFields<'a> {
    pub program_id: &'a str,
    pub retailer_id: &'a str,
    pub funder_id: &'a str,
    pub currency: &'a str,
    pub advance_rate: &'a str,
    pub discount_rate: &'a str,
    pub day_count: &'a str,
    pub tenor_min_days: i64,
    pub tenor_max_days: i64,
    pub grace_days: i64,
    pub late_rate: &'a str,
    pub default_days: i64,
    pub recourse: bool,
    pub program_limit: &'a str,
    pub retailer_limit: &'a str,
    pub supplier_limit_fixed: Option<&'a str>,
    pub supplier_limit_multiple: Option<&'a str>,
    /// Several funders, or one with concentration limits; `None`: `funder_id`
    /// alone, committed to the programme limit.
    pub syndicate: Option<SyndicateFields<'a>>,
}

/// The funders of a programme and its allocation rule, as typed.
#[derive(Debug, Clone, Default)]
pub struct SyndicateFields<'a> {
    /// `single`, `priority`, `pro_rata` or `buyer_funded`.
    pub allocation: &'a str,
    /// In order: the first is the lead funder, who takes rounding residues.
    /// None for `buyer_funded`: the retailer funds it.
    pub funders: Vec<FunderFields<'a>>,
    /// `buyer_funded`: the most the retailer pays early per calendar month,
    /// net of discounts.
    pub early_payment_budget: Option<&'a str>,
}

/// What `syndicate` makes of the fields: the rule (absent for `single`),
/// the funders' commitments and a buyer-funded programme's budget.
type Syndicate = (Option<String>, Vec<FunderCommitment>, Option<String>);

#[derive(Debug, Clone, Default)]
pub struct FunderFields<'a> {
    pub funder_id: &'a str,
    pub commitment: &'a str,
    pub retailer_limit: Option<&'a str>,
    pub supplier_limit: Option<&'a str>,
}

/// The allocation rule and the funders' commitments, checked: the rule's
/// number of funders, each once, with positive amounts; the lead funder
/// is `funder_id`.
fn syndicate(fields: &ProgramFields<'_>, currency: Currency) -> Result<Syndicate, LedgerError> {
    let Some(syndicate) = &fields.syndicate else {
        return Ok((None, Vec::new(), None));
    };
    let rule: AllocationRule = syndicate
        .allocation
        .parse()
        .map_err(|e: String| invalid("allocation", e))?;
    if rule == AllocationRule::BuyerFunded {
        return buyer_funded(fields, syndicate, currency);
    }
    if syndicate.early_payment_budget.is_some() {
        return Err(invalid(
            "early_payment_budget",
            "an early-payment budget is for a buyer_funded programme",
        ));
    }
    let count = syndicate.funders.len();
    let counts_fit = match rule {
        AllocationRule::Single => count == 1,
        AllocationRule::Priority | AllocationRule::ProRata => {
            (2..=limits::PROGRAM_FUNDERS_MAX).contains(&count)
        }
        AllocationRule::BuyerFunded => count == 0,
    };
    if !counts_fit {
        return Err(invalid(
            "funders",
            match rule {
                AllocationRule::Single => {
                    "a single-funder programme has exactly one funder".to_string()
                }
                _ => format!(
                    "a {rule} programme has 2-{} funders, got {count}",
                    limits::PROGRAM_FUNDERS_MAX
                ),
            },
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut funders = Vec::with_capacity(count);
    for (position, funder) in syndicate.funders.iter().enumerate() {
        let field = |name: &str| format!("funders[{position}].{name}");
        PartyId::parse(funder.funder_id).map_err(|e| invalid(&field("funder_id"), e))?;
        if !seen.insert(funder.funder_id) {
            return Err(invalid(
                &field("funder_id"),
                format!("funder {} is listed twice", funder.funder_id),
            ));
        }
        let amount = |name: &str, text: &str| {
            positive_amount(&field(name), currency, text).map(|minor| currency.format_amount(minor))
        };
        funders.push(FunderCommitment {
            funder_id: funder.funder_id.to_string(),
            commitment: amount("commitment", funder.commitment)?,
            retailer_limit: funder
                .retailer_limit
                .map(|text| amount("retailer_limit", text))
                .transpose()?,
            supplier_limit: funder
                .supplier_limit
                .map(|text| amount("supplier_limit", text))
                .transpose()?,
        });
    }
    if funders[0].funder_id != fields.funder_id {
        return Err(invalid(
            "funder_id",
            format!(
                "funder_id {:?} must be the lead funder, the first of funders ({})",
                fields.funder_id, funders[0].funder_id
            ),
        ));
    }
    let allocation = (rule != AllocationRule::Single).then(|| rule.as_str().to_string());
    Ok((allocation, funders, None))
}

/// A programme funded by its retailer's own cash: the retailer is its
/// funder, the whole invoice is paid early (no reserve), within a budget.
fn buyer_funded(
    fields: &ProgramFields<'_>,
    syndicate: &SyndicateFields<'_>,
    currency: Currency,
) -> Result<Syndicate, LedgerError> {
    if !syndicate.funders.is_empty() {
        return Err(invalid(
            "funders",
            "a buyer_funded programme is funded by its retailer: list no funders",
        ));
    }
    if fields.funder_id != fields.retailer_id {
        return Err(invalid(
            "funder_id",
            format!(
                "a buyer_funded programme's funder is its retailer ({}), not {}",
                fields.retailer_id, fields.funder_id
            ),
        ));
    }
    let budget = syndicate.early_payment_budget.ok_or_else(|| {
        invalid(
            "early_payment_budget",
            "a buyer_funded programme needs early_payment_budget, the most paid early per month",
        )
    })?;
    let budget = positive_amount("early_payment_budget", currency, budget)?;
    Ok((
        Some(AllocationRule::BuyerFunded.as_str().into()),
        Vec::new(),
        Some(currency.format_amount(budget)),
    ))
}

/// `program.created`: one retailer, one funder, one currency and their terms.
pub struct CreateProgram {
    body: ProgramCreated,
    actor: PartyId,
}

/// A day count field within 0..=max.
fn days(field: &str, value: i64, max: i64) -> Result<i64, LedgerError> {
    if (0..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            field,
            format!("{field} must be 0-{max} days, got {value}"),
        ))
    }
}

/// The supplier limit rule: exactly one of a fixed cap and a multiple of
/// trading history, as the entry spells them.
fn supplier_limit(
    fields: &ProgramFields<'_>,
    currency: Currency,
) -> Result<(Option<String>, Option<String>), LedgerError> {
    match (fields.supplier_limit_fixed, fields.supplier_limit_multiple) {
        (Some(cap), None) => {
            let cap = positive_amount("supplier_limit_fixed", currency, cap)?;
            Ok((Some(currency.format_amount(cap)), None))
        }
        (None, Some(multiple)) => {
            let k = parse_rate(
                "supplier_limit_multiple",
                multiple,
                Decimal::ZERO,
                Decimal::from(limits::SUPPLIER_LIMIT_MULTIPLE_MAX),
            )
            .map_err(terms_error)?;
            Ok((None, Some(k.to_string())))
        }
        _ => Err(terms_error(TermsError::SupplierLimitRule)),
    }
}

impl CreateProgram {
    pub fn parse(actor: &PartyId, fields: &ProgramFields<'_>) -> Result<Self, LedgerError> {
        let program_id = PartyId::parse(fields.program_id)
            .map_err(|e| invalid("program_id", e.replace("party id", "programme id")))?;
        let currency =
            Currency::parse(fields.currency).map_err(|e| invalid("currency", e.to_string()))?;
        let annual = |field, text| {
            parse_rate(
                field,
                text,
                Decimal::ZERO,
                Decimal::from(limits::ANNUAL_RATE_MAX),
            )
            .map_err(terms_error)
        };
        let advance_rate = parse_rate(
            "advance_rate",
            fields.advance_rate,
            Decimal::ZERO,
            Decimal::ONE,
        )
        .map_err(terms_error)?;
        if advance_rate.is_zero() {
            return Err(invalid("advance_rate", "advance_rate must be above 0"));
        }
        let discount_rate = annual("discount_rate", fields.discount_rate)?;
        let late_rate = annual("late_rate", fields.late_rate)?;
        let day_count: DayCount = fields.day_count.parse().map_err(terms_error)?;
        let term_max = limits::PROGRAM_TERM_DAYS_MAX;
        let tenor_min_days = days("tenor_min_days", fields.tenor_min_days, term_max)?;
        let tenor_max_days = days("tenor_max_days", fields.tenor_max_days, term_max)?;
        if tenor_min_days > tenor_max_days {
            return Err(terms_error(TermsError::Tenor));
        }
        let grace_days = days("grace_days", fields.grace_days, limits::GRACE_DAYS_MAX)?;
        let default_days = days("default_days", fields.default_days, term_max)?;
        let program_limit = positive_amount("program_limit", currency, fields.program_limit)?;
        let retailer_limit = positive_amount("retailer_limit", currency, fields.retailer_limit)?;
        let (fixed, multiple) = supplier_limit(fields, currency)?;
        let (allocation, funders, early_payment_budget) = syndicate(fields, currency)?;
        let buyer_funded = early_payment_budget.is_some();
        if buyer_funded && advance_rate != Decimal::ONE {
            return Err(invalid(
                "advance_rate",
                "a buyer_funded programme pays the whole invoice early: advance_rate must be 1",
            ));
        }
        Ok(CreateProgram {
            body: ProgramCreated {
                program_id: program_id.to_string(),
                retailer_id: fields.retailer_id.to_string(),
                funder_id: fields.funder_id.to_string(),
                currency: currency.code().into(),
                advance_rate: advance_rate.to_string(),
                discount_rate: discount_rate.to_string(),
                day_count: day_count.as_str().into(),
                tenor_min_days,
                tenor_max_days,
                grace_days,
                late_rate: late_rate.to_string(),
                default_days,
                recourse: fields.recourse,
                program_limit: currency.format_amount(program_limit),
                retailer_limit: currency.format_amount(retailer_limit),
                supplier_limit_fixed: fixed,
                supplier_limit_multiple: multiple,
                allocation,
                funders,
                early_payment_budget,
            },
            actor: actor.clone(),
        })
    }
}

impl Command for CreateProgram {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        if context.records().program(&self.body.program_id).is_some() {
            return Err(reject(
                ErrorCode::ProgramExists,
                Some("program_id"),
                format!("programme {} already exists", self.body.program_id),
            ));
        }
        find_party(
            context.records(),
            &self.body.retailer_id,
            Role::Retailer,
            "retailer_id",
        )?;
        // A buyer-funded programme's funder is its retailer, checked above.
        if self.body.early_payment_budget.is_none() {
            find_party(
                context.records(),
                &self.body.funder_id,
                Role::Funder,
                "funder_id",
            )?;
        }
        for (position, funder) in self.body.funders.iter().enumerate() {
            let field = format!("funders[{position}].funder_id");
            find_party(context.records(), &funder.funder_id, Role::Funder, &field)?;
        }
        Ok(self.body.clone().draft(self.actor.to_string(), vec![]))
    }
}

/// `program.supplier_enrolled`: the operator, or the programme's retailer,
/// enrols a supplier; only members register invoices in a programme.
pub struct EnrolSupplier {
    actor: Actor,
    program_id: String,
    supplier_id: String,
}

impl EnrolSupplier {
    pub fn parse(actor: Actor, program_id: &str, supplier_id: &str) -> Result<Self, LedgerError> {
        let supplier_id = PartyId::parse(supplier_id).map_err(|e| invalid("supplier_id", e))?;
        Ok(EnrolSupplier {
            actor,
            program_id: program_id.into(),
            supplier_id: supplier_id.to_string(),
        })
    }
}

impl Command for EnrolSupplier {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let program = find_program(context.records(), &self.program_id)?;
        let may_enrol = self.actor.role == Role::Operator
            || (self.actor.role == Role::Retailer && self.actor.party == program.retailer_id);
        if !may_enrol {
            // A party outside the programme learns nothing of it.
            return Err(reject(
                ErrorCode::NotFound,
                Some("program_id"),
                format!("no programme {:?}", self.program_id),
            ));
        }
        find_party(
            context.records(),
            &self.supplier_id,
            Role::Supplier,
            "supplier_id",
        )?;
        if context
            .records()
            .is_member(&self.program_id, &self.supplier_id)
        {
            return Err(reject(
                ErrorCode::AlreadyEnrolled,
                Some("supplier_id"),
                format!(
                    "{} is already enrolled in programme {}",
                    self.supplier_id, self.program_id
                ),
            ));
        }
        let body = SupplierEnrolled {
            program_id: String::from(program.program_id),
            supplier_id: self.supplier_id.clone(),
            retailer_id: String::from(program.retailer_id),
        };
        Ok(body.draft(self.actor.party.to_string(), vec![]))
    }
}
