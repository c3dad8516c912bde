-- Lines of imported bank statements (camt.053 / camt.054), one per transaction.
CREATE TABLE bank_lines (
    line_id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL,
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    credit INTEGER NOT NULL,
    reversal INTEGER NOT NULL,
    booking_date DATE,
    value_date DATE,
    end_to_end_id TEXT,
    account_servicer_reference TEXT,
    structured_references TEXT NOT NULL,
    remittance TEXT NOT NULL,
    debtor_name TEXT,
    status TEXT NOT NULL,
    matched_by TEXT,
    match_rule TEXT,
    payment_seq BIGINT,
    imported_seq BIGINT NOT NULL
);
CREATE INDEX bank_lines_by_status ON bank_lines (status, imported_seq);
