//! The settlement waterfall of DESIGN.md section 3.

/// What one invoice stands at when a payment is applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoicePosition {
    /// Face value less credit notes less what was already paid.
    pub open_minor: i64,
    /// Funder principal not yet repaid (0 when not financed).
    pub principal_outstanding_minor: i64,
    /// Late fee accrued and not yet paid.
    pub late_fee_due_minor: i64,
}

/// How a payment splits across the waterfall for one invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allocation {
    /// 1. to the funder, principal.
    pub principal_minor: i64,
    /// 2. to the funder, late fee.
    pub late_fee_minor: i64,
    /// 3. to the supplier, the reserve.
    pub supplier_minor: i64,
    /// 4. above the open amount: unapplied cash for treasury.
    pub excess_minor: i64,
}

impl Allocation {
    /// What was applied to the invoice (everything but the excess).
    pub fn applied_minor(&self) -> i64 {
        self.principal_minor + self.late_fee_minor + self.supplier_minor
    }
}

/// Splits `payment_minor` (≥ 0) over one invoice. The late fee comes out of what
/// would otherwise go to the supplier, so what is applied never exceeds the
/// open amount and every minor unit lands in exactly one bucket.
pub fn allocate(payment_minor: i64, position: InvoicePosition) -> Allocation {
    debug_assert!(payment_minor >= 0 && position.open_minor >= 0);
    let applied = payment_minor.min(position.open_minor);
    let principal = applied.min(position.principal_outstanding_minor);
    let late_fee = (applied - principal).min(position.late_fee_due_minor);
    let supplier = applied - principal - late_fee;
    Allocation {
        principal_minor: principal,
        late_fee_minor: late_fee,
        supplier_minor: supplier,
        excess_minor: payment_minor - applied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example_paid_in_full() {
        let position = InvoicePosition {
            open_minor: 1_000_000,
            principal_outstanding_minor: 900_000,
            late_fee_due_minor: 0,
        };
        assert_eq!(
            allocate(1_000_000, position),
            Allocation {
                principal_minor: 900_000,
                late_fee_minor: 0,
                supplier_minor: 100_000,
                excess_minor: 0
            }
        );
    }

    #[test]
    fn short_late_and_over_payments() {
        let position = InvoicePosition {
            open_minor: 1_000_000,
            principal_outstanding_minor: 900_000,
            late_fee_due_minor: 5_000,
        };
        assert_eq!(
            allocate(600_000, position),
            Allocation {
                principal_minor: 600_000,
                ..Default::default()
            }
        );
        assert_eq!(
            allocate(1_000_000, position),
            Allocation {
                principal_minor: 900_000,
                late_fee_minor: 5_000,
                supplier_minor: 95_000,
                excess_minor: 0
            }
        );
        assert_eq!(
            allocate(1_200_000, position),
            Allocation {
                principal_minor: 900_000,
                late_fee_minor: 5_000,
                supplier_minor: 95_000,
                excess_minor: 200_000
            }
        );
    }

    proptest! {
        #[test]
        fn every_unit_lands_in_one_bucket(payment in 0i64..10_000_000, open in 0i64..10_000_000, principal in 0i64..10_000_000, late in 0i64..1_000_000) {
            let principal = principal.min(open);
            let allocation = allocate(payment, InvoicePosition { open_minor: open, principal_outstanding_minor: principal, late_fee_due_minor: late });
            prop_assert_eq!(allocation.applied_minor() + allocation.excess_minor, payment);
            prop_assert!(allocation.applied_minor() <= open);
            prop_assert!(allocation.principal_minor <= principal && allocation.late_fee_minor <= late);
            prop_assert!(allocation.principal_minor >= 0 && allocation.supplier_minor >= 0 && allocation.excess_minor >= 0);
        }
    }
}
