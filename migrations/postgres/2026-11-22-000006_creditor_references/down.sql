DROP INDEX invoices_by_creditor_reference;
ALTER TABLE invoices DROP COLUMN creditor_reference;
