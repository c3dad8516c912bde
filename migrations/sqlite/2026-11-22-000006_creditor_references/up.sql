-- The ISO 11649 RF reference issued when an invoice is confirmed; payments quote it.
ALTER TABLE invoices ADD COLUMN creditor_reference TEXT;
CREATE UNIQUE INDEX invoices_by_creditor_reference ON invoices (creditor_reference);
