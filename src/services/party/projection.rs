//! Applies the party's entries to the `parties` projection, through the
//! writer's records (`ledger::records`).

use super::events::{BankAccountSet, PartyRegistered};
use crate::db::financing::PartyRow;
use crate::domain::{PartyId, PartyStatus};
use crate::ledger::{BatchContext, LedgerError};

pub fn party_registered(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: PartyRegistered,
) -> Result<(), LedgerError> {
    context.changes().put_party(PartyRow {
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
    });
    Ok(())
}

/// `party.bank_account_set`: the party's IBAN and BIC.
pub fn project_bank_account(
    context: &mut BatchContext<'_>,
    body: BankAccountSet,
) -> Result<(), LedgerError> {
    let mut party = context
        .records()
        .party(&body.party_id)
        .cloned()
        .ok_or_else(|| {
            LedgerError::Inconsistent(format!("projector: no party {}", body.party_id))
        })?;
    party.iban = Some(body.iban);
    party.bic = body.bic;
    context.changes().put_party(party);
    Ok(())
}
