-- Financing projections, derived from the log by services::financing::projector.
CREATE TABLE parties (
    party_id TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    tax_id TEXT,
    public_key TEXT,
    key_id TEXT,
    status TEXT NOT NULL,
    registered_seq BIGINT NOT NULL
);

CREATE TABLE programs (
    program_id TEXT PRIMARY KEY NOT NULL,
    retailer_id TEXT NOT NULL,
    funder_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    advance_rate TEXT NOT NULL,
    discount_rate TEXT NOT NULL,
    day_count TEXT NOT NULL,
    tenor_min_days INTEGER NOT NULL,
    tenor_max_days INTEGER NOT NULL,
    grace_days INTEGER NOT NULL,
    late_rate TEXT NOT NULL,
    default_days INTEGER NOT NULL,
    recourse INTEGER NOT NULL,
    program_limit_minor BIGINT NOT NULL,
    retailer_limit_minor BIGINT NOT NULL,
    supplier_limit_fixed_minor BIGINT,
    supplier_limit_multiple TEXT,
    created_seq BIGINT NOT NULL
);

CREATE TABLE invoices (
    invoice_id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    retailer_id TEXT NOT NULL,
    funder_id TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    issue_date DATE NOT NULL,
    due_date DATE NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    credited_minor BIGINT NOT NULL,
    paid_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    fingerprint TEXT NOT NULL UNIQUE,
    registered_seq BIGINT NOT NULL,
    settled_on DATE,
    defaulted_on DATE
);
CREATE INDEX invoices_by_supplier ON invoices (supplier_id, status);
CREATE INDEX invoices_by_program ON invoices (program_id, status);
CREATE INDEX invoices_by_retailer ON invoices (retailer_id, registered_seq);
CREATE INDEX invoices_by_funder ON invoices (funder_id, registered_seq);

CREATE TABLE advances (
    invoice_id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    retailer_id TEXT NOT NULL,
    funder_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    principal_minor BIGINT NOT NULL,
    fee_minor BIGINT NOT NULL,
    net_minor BIGINT NOT NULL,
    value_date DATE NOT NULL,
    due_date DATE NOT NULL,
    principal_outstanding_minor BIGINT NOT NULL,
    late_fee_unpaid_minor BIGINT NOT NULL,
    late_accrued_through DATE NOT NULL,
    accepted_seq BIGINT NOT NULL
);
CREATE INDEX advances_by_program ON advances (program_id);

CREATE TABLE payouts (
    payout_id TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    reason TEXT NOT NULL,
    invoice_id TEXT,
    status TEXT NOT NULL,
    created_seq BIGINT NOT NULL
);

CREATE TABLE supplier_debts (
    debt_id TEXT PRIMARY KEY NOT NULL,
    supplier_id TEXT NOT NULL,
    funder_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    recovered_minor BIGINT NOT NULL,
    created_seq BIGINT NOT NULL
);
CREATE INDEX supplier_debts_by_supplier ON supplier_debts (supplier_id, currency);

-- Which parties each entry concerns: the event feed and webhooks read it.
CREATE TABLE entry_parties (
    party_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (party_id, seq)
);
