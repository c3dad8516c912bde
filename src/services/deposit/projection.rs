//! Applies a deposit: the bank line it explains is matched.

use super::events::FunderDeposited;
use crate::ledger::{BatchContext, LedgerError};
use crate::services::bank_line::projection::mark_matched;

pub fn funder_deposited(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: FunderDeposited,
) -> Result<(), LedgerError> {
    mark_matched(context, body.bank_line.as_ref(), seq)
}
