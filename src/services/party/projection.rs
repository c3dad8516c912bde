//! Applies the party's entries to the `parties` projection.

use super::events::{BankAccountSet, PartyRegistered};
use crate::db::financing::{self as fin_db, PartyRow};
use crate::db::DbConnection;
use crate::domain::{PartyId, PartyStatus};
use crate::ledger::LedgerError;

pub fn party_registered(
    connection: &mut DbConnection,
    seq: i64,
    body: PartyRegistered,
) -> Result<(), LedgerError> {
    fin_db::insert_party(
        connection,
        &PartyRow {
            party_id: PartyId::from(body.party_id),
            role: body.role,
            name: body.name,
            tax_id: body.tax_id,
            public_key: body.public_key,
            key_id: body.key_id,
            status: PartyStatus::Active,
            registered_seq: seq,
            iban: None,
            bic: None,
        },
    )?;
    Ok(())
}

/// `party.bank_account_set`: the party's IBAN and BIC.
pub fn project_bank_account(
    connection: &mut DbConnection,
    body: BankAccountSet,
) -> Result<(), LedgerError> {
    let mut party = fin_db::party(connection, &body.party_id)?.ok_or_else(|| {
        LedgerError::Inconsistent(format!("projector: no party {}", body.party_id))
    })?;
    party.iban = Some(body.iban);
    party.bic = body.bic;
    fin_db::update_party(connection, &party)?;
    Ok(())
}
