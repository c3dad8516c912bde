CREATE INDEX invoices_by_supplier_default ON invoices (supplier_id, defaulted_on);
