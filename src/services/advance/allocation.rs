//! Which of a programme's funders take an advance, and how much each: the
//! programme's allocation rule (`domain::syndicate`) over each funder's
//! commitment, cash and concentration limits. Every funder looked at is
//! recorded with its inputs and whether it took a share.

use super::decision::DecisionFacts;
use super::events::RuleOutcome;
use crate::db::financing::{InvoiceRow, ProgramRow};
use crate::domain::pricing::Pricing;
use crate::domain::syndicate::{split, AllocationRule, ProgramFunder};
use crate::domain::Currency;
use crate::ledger::records::Tally;
use crate::ledger::LedgerError;
use crate::services::common::{accounts, amount_text, program_syndicate};

/// One funder's part of an advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunderPart {
    pub funder_id: String,
    /// Its place in the programme's order (0 = lead).
    pub rank: usize,
    pub principal_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
}

/// The allocation of one advance.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub rule: AllocationRule,
    /// The funders that take a share, in the programme's order; empty when
    /// none could.
    pub parts: Vec<FunderPart>,
    /// Every funder looked at, in order: its inputs, its limits, and
    /// whether it took a share (`passed`).
    pub outcomes: Vec<RuleOutcome>,
    /// Whether the entry records the outcomes: a programme of one funder
    /// without concentration limits has its funder's cash in the
    /// `funder_liquidity` rule alone.
    pub recorded: bool,
}

impl Allocation {
    /// The principal the funders take between them.
    pub fn allocated_minor(&self) -> i64 {
        self.parts.iter().map(|p| p.principal_minor).sum()
    }
}

/// What a funder has in use and on hand, before this advance.
struct Standing {
    committed_minor: i64,
    cash_minor: i64,
    retailer_minor: i64,
    supplier_minor: i64,
}

fn standing(
    facts: &dyn DecisionFacts,
    rule: AllocationRule,
    funder: &ProgramFunder,
    invoice: &InvoiceRow,
    currency: Currency,
) -> Result<Standing, LedgerError> {
    let records = facts.records();
    let id = funder.funder_id.as_str();
    let exposure = |party: &str| {
        let tally = Tally::funder_exposure(id, currency.code(), party);
        records.tally(tally.clone()..=tally)
    };
    let committed = Tally::funder_committed(id, &invoice.program_id);
    Ok(Standing {
        committed_minor: records.tally(committed.clone()..=committed),
        // The funder's cash account is a liability, credit-signed.
        cash_minor: -facts.balance_minor(&cash_account(rule, id), currency)?,
        retailer_minor: exposure(&invoice.retailer_id),
        supplier_minor: exposure(&invoice.supplier_id),
    })
}

/// The account a funder pays advances from: its cash with the platform, or
/// for a buyer-funded programme, the retailer's own cash.
pub fn cash_account(rule: AllocationRule, funder_id: &str) -> String {
    match rule {
        AllocationRule::BuyerFunded => accounts::retailer_cash(funder_id),
        AllocationRule::Single | AllocationRule::Priority | AllocationRule::ProRata => {
            accounts::funder_cash(funder_id)
        }
    }
}

/// Whether `funder` can take `principal` (paying out `net`), and the
/// record of it.
fn consider(
    funder: &ProgramFunder,
    standing: &Standing,
    currency: Currency,
    principal: i64,
    net: i64,
) -> (bool, RuleOutcome) {
    let money = |minor: i64| amount_text(currency, minor);
    let limit = |minor: Option<i64>| minor.map_or("none".to_string(), money);
    let within = |used: i64, limit: Option<i64>| limit.is_none_or(|l| used + principal <= l);
    let fits = standing.committed_minor + principal <= funder.commitment_minor
        && standing.cash_minor >= net
        && within(standing.retailer_minor, funder.retailer_limit_minor)
        && within(standing.supplier_minor, funder.supplier_limit_minor);
    let outcome = RuleOutcome {
        rule: format!("allocation {}", funder.funder_id),
        input: format!(
            "share {} (net {}); commitment used {}; cash {}; retailer exposure {}; supplier exposure {}",
            money(principal),
            money(net),
            money(standing.committed_minor),
            money(standing.cash_minor),
            money(standing.retailer_minor),
            money(standing.supplier_minor),
        ),
        threshold: format!(
            "commitment {}; retailer limit {}; supplier limit {}",
            money(funder.commitment_minor),
            limit(funder.retailer_limit_minor),
            limit(funder.supplier_limit_minor),
        ),
        passed: fits,
    };
    (fits, outcome)
}

/// Allocates the advance priced at `pricing` on `invoice` in `program`.
pub fn allocate(
    facts: &dyn DecisionFacts,
    program: &ProgramRow,
    invoice: &InvoiceRow,
    currency: Currency,
    pricing: &Pricing,
) -> Result<Allocation, LedgerError> {
    let (rule, funders) = program_syndicate(program)?;
    let standings = funders
        .iter()
        .map(|f| standing(facts, rule, f, invoice, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let recorded = rule != AllocationRule::Single
        || funders
            .iter()
            .any(|f| f.retailer_limit_minor.is_some() || f.supplier_limit_minor.is_some());
    let candidates: Vec<(&ProgramFunder, Standing)> = funders.iter().zip(standings).collect();
    let (parts, outcomes) = match rule {
        AllocationRule::Single | AllocationRule::Priority | AllocationRule::BuyerFunded => {
            first_that_fits(&candidates, currency, pricing)
        }
        AllocationRule::ProRata => pro_rata(&candidates, currency, pricing),
    };
    Ok(Allocation {
        rule,
        parts,
        outcomes,
        recorded,
    })
}

/// The first funder, in order, that can take the whole advance.
fn first_that_fits(
    candidates: &[(&ProgramFunder, Standing)],
    currency: Currency,
    pricing: &Pricing,
) -> (Vec<FunderPart>, Vec<RuleOutcome>) {
    let mut outcomes = Vec::new();
    for (rank, (funder, standing)) in candidates.iter().enumerate() {
        let (fits, outcome) = consider(
            funder,
            standing,
            currency,
            pricing.principal_minor,
            pricing.net_minor,
        );
        outcomes.push(outcome);
        if fits {
            let part = FunderPart {
                funder_id: funder.funder_id.clone(),
                rank,
                principal_minor: pricing.principal_minor,
                fee_minor: pricing.fee_minor,
                net_minor: pricing.net_minor,
            };
            return (vec![part], outcomes);
        }
    }
    (Vec::new(), outcomes)
}

/// Shares by commitment; a funder that cannot take its share is left out,
/// and the others share again, until every one left can take its share.
/// The fee splits as the principal does.
fn pro_rata(
    candidates: &[(&ProgramFunder, Standing)],
    currency: Currency,
    pricing: &Pricing,
) -> (Vec<FunderPart>, Vec<RuleOutcome>) {
    let mut active: Vec<usize> = (0..candidates.len()).collect();
    let mut outcomes: Vec<(usize, RuleOutcome)> = Vec::new();
    let mut parts = Vec::new();
    while !active.is_empty() {
        let weights: Vec<i64> = active
            .iter()
            .map(|&rank| candidates[rank].0.commitment_minor)
            .collect();
        let principals = split(pricing.principal_minor, &weights);
        let fees = split(pricing.fee_minor, &principals);
        let considered: Vec<(usize, FunderPart, bool, RuleOutcome)> = active
            .iter()
            .zip(principals.iter().zip(&fees))
            .map(|(&rank, (&principal, &fee))| {
                let (funder, standing) = &candidates[rank];
                let (fits, outcome) =
                    consider(funder, standing, currency, principal, principal - fee);
                let part = FunderPart {
                    funder_id: funder.funder_id.clone(),
                    rank,
                    principal_minor: principal,
                    fee_minor: fee,
                    net_minor: principal - fee,
                };
                (rank, part, fits, outcome)
            })
            .collect();
        let everyone_fits = considered.iter().all(|(_, _, fits, _)| *fits);
        for (rank, part, fits, outcome) in considered {
            if everyone_fits {
                if part.principal_minor > 0 {
                    parts.push(part);
                }
                outcomes.push((rank, outcome));
            } else if !fits {
                active.retain(|&r| r != rank);
                outcomes.push((rank, outcome));
            }
        }
        if everyone_fits {
            break;
        }
    }
    outcomes.sort_by_key(|(rank, _)| *rank);
    (parts, outcomes.into_iter().map(|(_, o)| o).collect())
}
