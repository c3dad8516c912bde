//! Applies the programme's entries to the `programs` and `program_members`
//! projections, through the writer's records (`ledger::records`).

use super::events::{ProgramCreated, SupplierEnrolled};
use crate::db::financing::{self as fin_db, ProgramRow};
use crate::domain::syndicate::{AllocationRule, ProgramFunder};
use crate::domain::{PartyId, ProgramId};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::common::parse_amount;
use crate::services::common::stored::currency;

pub fn program_created(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: ProgramCreated,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let funders: Vec<ProgramFunder> = if body.funders.is_empty() {
        vec![ProgramFunder {
            funder_id: body.funder_id.clone(),
            commitment_minor: parse_amount(currency, &body.program_limit)?,
            retailer_limit_minor: None,
            supplier_limit_minor: None,
        }]
    } else {
        let optional = |text: &Option<String>| {
            text.as_deref()
                .map(|a| parse_amount(currency, a))
                .transpose()
        };
        body.funders
            .iter()
            .map(|f| {
                Ok(ProgramFunder {
                    funder_id: f.funder_id.clone(),
                    commitment_minor: parse_amount(currency, &f.commitment)?,
                    retailer_limit_minor: optional(&f.retailer_limit)?,
                    supplier_limit_minor: optional(&f.supplier_limit)?,
                })
            })
            .collect::<Result<_, LedgerError>>()?
    };
    let fixed = body
        .supplier_limit_fixed
        .as_deref()
        .map(|a| parse_amount(currency, a))
        .transpose()?;
    let row = ProgramRow {
        program_id: ProgramId::from(body.program_id),
        retailer_id: PartyId::from(body.retailer_id),
        funder_id: PartyId::from(body.funder_id),
        currency: body.currency,
        advance_rate: body.advance_rate,
        discount_rate: body.discount_rate,
        day_count: body.day_count,
        tenor_min_days: body.tenor_min_days as i32,
        tenor_max_days: body.tenor_max_days as i32,
        grace_days: body.grace_days as i32,
        late_rate: body.late_rate,
        default_days: body.default_days as i32,
        recourse: body.recourse,
        program_limit_minor: parse_amount(currency, &body.program_limit)?,
        retailer_limit_minor: parse_amount(currency, &body.retailer_limit)?,
        supplier_limit_fixed_minor: fixed,
        supplier_limit_multiple: body.supplier_limit_multiple,
        created_seq: seq,
        allocation: body
            .allocation
            .unwrap_or_else(|| AllocationRule::Single.as_str().into()),
        funders: serde_json::to_string(&funders)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?,
        early_payment_budget_minor: body
            .early_payment_budget
            .as_deref()
            .map(|a| parse_amount(currency, a))
            .transpose()?,
    };
    context.changes().put_program(row);
    Ok(())
}

pub fn supplier_enrolled(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: SupplierEnrolled,
) -> Result<(), LedgerError> {
    context.changes().put_member(fin_db::ProgramMemberRow {
        program_id: ProgramId::from(body.program_id),
        supplier_id: PartyId::from(body.supplier_id),
        enrolled_seq: seq,
    });
    Ok(())
}
