//! An invoice's lifecycle: registered (by form, JSON or UBL e-invoice),
//! confirmed, disputed or rejected by the retailer, credited, overdue and
//! defaulted (the daily sweep). Paying it is the payment aggregate's.

pub mod commands;
pub mod einvoice;
pub mod events;
pub mod projection;
pub mod sweep;

pub use commands::{
    request_signing_bytes, CreditNote, InvoiceFields, RegisterInvoice, RetailerDecision,
};
pub use events::{
    InvoiceConfirmed, InvoiceCredited, InvoiceDecision, InvoiceDefaulted, InvoiceDisputed,
    InvoiceMatured, InvoiceOverdue, InvoiceRegistered, InvoiceRejected,
};
