-- Several funders per programme (issue 17). A programme names its funders,
-- each with its commitment and concentration limits, under an allocation
-- rule; programmes created before hold their one funder, committed to the
-- programme limit.
ALTER TABLE programs ADD COLUMN allocation TEXT NOT NULL DEFAULT 'single';
ALTER TABLE programs ADD COLUMN funders TEXT NOT NULL DEFAULT '[]';
UPDATE programs SET funders =
    '[{"funder_id":"' || funder_id || '","commitment_minor":' || program_limit_minor || '}]';

-- Each funder's share of an advance, and what of it is outstanding. An
-- advance of one funder has one share.
CREATE TABLE advance_shares (
    invoice_id TEXT NOT NULL,
    funder_id TEXT NOT NULL,
    -- The funder's place in the programme's order (0 = the lead funder).
    rank INTEGER NOT NULL,
    program_id TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    retailer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    principal_minor BIGINT NOT NULL,
    fee_minor BIGINT NOT NULL,
    net_minor BIGINT NOT NULL,
    principal_outstanding_minor BIGINT NOT NULL,
    late_fee_unpaid_minor BIGINT NOT NULL,
    late_fee_paid_minor BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, funder_id)
);
CREATE INDEX advance_shares_funder ON advance_shares (funder_id);
INSERT INTO advance_shares
    SELECT invoice_id, funder_id, 0, program_id, supplier_id, retailer_id, currency,
           principal_minor, fee_minor, net_minor, principal_outstanding_minor,
           late_fee_unpaid_minor, 0
    FROM advances;

-- A programme funded by its retailer's own cash (dynamic discounting): the
-- most it pays early per calendar month, net of discounts.
ALTER TABLE programs ADD COLUMN early_payment_budget_minor BIGINT;
