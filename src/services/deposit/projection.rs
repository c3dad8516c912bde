//! Applies a deposit: the bank line it explains is matched.

use super::events::FunderDeposited;
use crate::db::DbConnection;
use crate::ledger::LedgerError;
use crate::services::bank_line::projection::mark_matched;

pub fn funder_deposited(
    connection: &mut DbConnection,
    seq: i64,
    body: FunderDeposited,
) -> Result<(), LedgerError> {
    mark_matched(connection, body.bank_line.as_ref(), seq)
}
