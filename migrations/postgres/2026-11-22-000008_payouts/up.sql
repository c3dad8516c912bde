-- Bank accounts of parties: where a supplier's payouts go, and (for the
-- operator) the account pain.001 batches are paid from.
ALTER TABLE parties ADD COLUMN iban TEXT;
ALTER TABLE parties ADD COLUMN bic TEXT;
-- A payout is pending, then sent in a batch, then confirmed by a statement
-- debit (or cancelled when the payment that created it is reversed).
ALTER TABLE payouts ADD COLUMN batch_id TEXT;
ALTER TABLE payouts ADD COLUMN confirmed_seq BIGINT;
CREATE INDEX payouts_by_status ON payouts (status, created_seq);
-- The bank's payment information id of a line (Refs/PmtInfId or Btch/PmtInfId).
ALTER TABLE bank_lines ADD COLUMN payment_information_id TEXT;
CREATE TABLE payout_batches (
    batch_id TEXT PRIMARY KEY NOT NULL,
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    payout_count INTEGER NOT NULL,
    debtor_iban TEXT NOT NULL,
    requested_execution_date DATE NOT NULL,
    status TEXT NOT NULL,
    confirmed_minor BIGINT NOT NULL,
    created_seq BIGINT NOT NULL
);
-- Statement files as imported, kept to reconcile them later. The log holds
-- each line's facts and the file's SHA-256, so a kept file can be checked
-- against the log; this table is an archive, not a projection.
CREATE TABLE bank_statement_files (
    sha256 TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    document TEXT NOT NULL
);
