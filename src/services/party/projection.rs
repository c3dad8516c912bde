//! Applies the party's entries to the `parties` projection, through the
//! writer's records (`ledger::records`).

use super::events::{
    BankAccountRequestDeclined, BankAccountRequested, BankAccountSet, PartyRegistered,
};
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
        requested_iban: None,
        requested_bic: None,
        requested_seq: None,
    });
    Ok(())
}

fn stored_party(context: &BatchContext<'_>, party_id: &str) -> Result<PartyRow, LedgerError> {
    context
        .records()
        .party(party_id)
        .cloned()
        .ok_or_else(|| LedgerError::Inconsistent(format!("projector: no party {party_id}")))
}

/// `party.bank_account_set`: the party's IBAN and BIC; a request it
/// approves is no longer waiting.
pub fn project_bank_account(
    context: &mut BatchContext<'_>,
    body: BankAccountSet,
) -> Result<(), LedgerError> {
    let mut party = stored_party(context, &body.party_id)?;
    party.iban = Some(body.iban);
    party.bic = body.bic;
    party.requested_iban = None;
    party.requested_bic = None;
    party.requested_seq = None;
    context.changes().put_party(party);
    Ok(())
}

/// `party.bank_account_requested`: the change waits; payouts are held.
pub fn project_request(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: BankAccountRequested,
) -> Result<(), LedgerError> {
    let mut party = stored_party(context, &body.party_id)?;
    party.requested_iban = Some(body.iban);
    party.requested_bic = body.bic;
    party.requested_seq = Some(seq);
    context.changes().put_party(party);
    Ok(())
}

/// `party.bank_account_request_declined`: the party keeps its account.
pub fn project_declined_request(
    context: &mut BatchContext<'_>,
    body: BankAccountRequestDeclined,
) -> Result<(), LedgerError> {
    let mut party = stored_party(context, &body.party_id)?;
    party.requested_iban = None;
    party.requested_bic = None;
    party.requested_seq = None;
    context.changes().put_party(party);
    Ok(())
}
