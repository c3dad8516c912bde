-- Principal outstanding per programme and party (the programme itself under
-- party '*'), kept by every change to an advance, so the limit rules read one
-- row instead of summing every advance.
CREATE TABLE exposures (
    program_id TEXT NOT NULL,
    party_id TEXT NOT NULL,
    principal_outstanding_minor BIGINT NOT NULL,
    PRIMARY KEY (program_id, party_id)
);
INSERT INTO exposures (program_id, party_id, principal_outstanding_minor)
    SELECT program_id, supplier_id, CAST(SUM(principal_outstanding_minor) AS BIGINT)
    FROM advances GROUP BY program_id, supplier_id;
INSERT INTO exposures (program_id, party_id, principal_outstanding_minor)
    SELECT program_id, retailer_id, CAST(SUM(principal_outstanding_minor) AS BIGINT)
    FROM advances GROUP BY program_id, retailer_id;
INSERT INTO exposures (program_id, party_id, principal_outstanding_minor)
    SELECT program_id, '*', CAST(SUM(principal_outstanding_minor) AS BIGINT)
    FROM advances GROUP BY program_id;
-- The advance rule "no default in 365 days" reads a supplier's defaults by date.
CREATE INDEX invoices_by_supplier_default ON invoices (supplier_id, defaulted_on);
