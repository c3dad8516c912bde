//! Who may read an entry whole. An entry concerns every party it names (its
//! supplier, retailer and funder, a payee), but some entries carry another
//! party's figures: a payout batch lists every payee's account and amount, a
//! lump payment splits across suppliers, an advance shows the supplier's price
//! of financing, which is none of the buyer's business. Such an entry is still
//! listed for each party it concerns (statements, receipts in words), but its
//! body, and so its proof, goes only to the parties that may read all of it,
//! and to the operator and auditors, who read everything.
//!
//! One exhaustive match: a new entry kind does not compile until it says who
//! may read it.

use crate::domain::Role;
use crate::services::advance::events::FunderShare;
use crate::services::events::Event;

/// Whether `party`, holding `role`, may read this entry's whole body.
pub fn reads_whole(event: &Event, role: Role, party: &str) -> bool {
    if matches!(role, Role::Operator | Role::Auditor) {
        return true;
    }
    let own = |id: &str| id == party;
    let funds = |lead: &str, shares: &[FunderShare]| {
        own(lead) || shares.iter().any(|share| own(&share.funder_id))
    };
    match event {
        // The operator's own books and the bank's lines: other payers' data.
        Event::JournalPosted(_)
        | Event::BankLineImported(_)
        | Event::PayoutBatchProposed(_)
        | Event::PayoutBatchDeclined(_)
        | Event::PayoutConfirmed(_) => false,
        Event::PartyRegistered(p) => own(&p.party_id),
        Event::BankAccountSet(a) => own(&a.party_id),
        Event::BankAccountRequested(a) => own(&a.party_id),
        Event::BankAccountRequestDeclined(a) => own(&a.party_id),
        // A programme's terms are its retailer's and funder's, and the
        // supplier enrolled in it reads them in its enrolment.
        Event::ProgramCreated(_) | Event::SupplierEnrolled(_) | Event::FunderDeposited(_) => true,
        // An invoice's own facts are shared by its supplier and its buyer.
        Event::InvoiceRegistered(_)
        | Event::InvoiceConfirmed(_)
        | Event::InvoiceDisputed(_)
        | Event::InvoiceRejected(_)
        | Event::InvoiceOverdue(_)
        | Event::InvoiceMatured(_) => true,
        Event::InvoiceCredited(_) => true,
        // The financing of an invoice, and its loss, are the supplier's and
        // its funders': the buyer reads neither the price nor the reserve.
        // The funders that share an advance read each other's share, as the
        // members of a syndicate know its allocation; no funder reads an
        // advance it has no share in. Paid early from a retailer's own cash,
        // the advance is that retailer's.
        Event::AdvanceAccepted(a) => match role {
            Role::Funder => funds(&a.funder_id, &a.shares),
            Role::Retailer => a.paid_early_by_buyer() && own(&a.funder_id),
            _ => true,
        },
        Event::InvoiceDefaulted(_) => role != Role::Retailer,
        // A payment's waterfall splits the money between funders and
        // suppliers: a party reads it when every part is its own.
        Event::PaymentReceived(p) => match role {
            Role::Funder => p.allocations.iter().all(|a| {
                a.funder_id.as_deref() == Some(party)
                    || a.shares.iter().any(|share| own(&share.funder_id))
            }),
            Role::Supplier => p.allocations.iter().all(|a| own(&a.supplier_id)),
            _ => false,
        },
        // A reversal names its invoices only: one invoice that concerns the
        // party is its own.
        Event::PaymentReversed(r) => {
            matches!(role, Role::Funder | Role::Supplier) && r.allocations.len() == 1
        }
        // A batch lists every payee: one payee reads it when it is alone in it.
        Event::PayoutBatchCreated(b) => {
            role == Role::Supplier && b.payouts.iter().all(|p| own(&p.party_id))
        }
    }
}
