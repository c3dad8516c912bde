//! The programme's own refusals.

use crate::domain::terms::TermsError;
use crate::domain::ErrorCode;
use crate::ledger::LedgerError;
use crate::services::common::{invalid, reject};

/// A supplier registers invoices, and is financed, only in its programmes.
pub fn not_enrolled(supplier_id: &str, program_id: &str) -> LedgerError {
    reject(
                ErrorCode::NotEnrolled,
        Some("program_id"),
        format!("{supplier_id} is not enrolled in programme {program_id}; the programme's operator or retailer enrols its suppliers"),
    )
}

pub fn terms_error(error: TermsError) -> LedgerError {
    let field = match &error {
        TermsError::Rate { field, .. } | TermsError::OutOfRange { field, .. } => field,
        TermsError::DayCount(_) => "day_count",
        TermsError::SupplierLimitRule => "supplier_limit_fixed",
        TermsError::Tenor => "tenor_min_days",
    };
    invalid(field, error.to_string())
}
