-- The advance rule "no default in 365 days" reads the writer's records in
-- memory now; no query filters invoices by defaulted_on, and the index cost
-- every invoice write an extra index update.
DROP INDEX invoices_by_supplier_default;
