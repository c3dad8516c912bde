DROP INDEX invoices_by_supplier_default;
DROP TABLE exposures;
