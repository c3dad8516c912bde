-- The log: canonical entry bytes, the source of truth.
CREATE TABLE log_entries (
    seq BIGINT PRIMARY KEY NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    canonical TEXT NOT NULL
);

-- Perfect Merkle subtrees: level 0 are leaf hashes, (l, i) covers leaves [i*2^l, (i+1)*2^l).
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    node_index BIGINT NOT NULL,
    hash_hex TEXT NOT NULL,
    PRIMARY KEY (level, node_index)
);

-- One signed checkpoint per committed batch.
CREATE TABLE checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hex TEXT NOT NULL,
    note TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL
);

-- Projections of the log's postings.
CREATE TABLE postings (
    seq BIGINT NOT NULL,
    posting_index INTEGER NOT NULL,
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (seq, posting_index)
);
CREATE INDEX postings_by_account ON postings (account, currency, seq);

CREATE TABLE balances (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_minor BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (account, currency)
);

-- Bearer API keys: only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    secret_sha256_hex TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

-- The log tables are append-only.
CREATE FUNCTION scfledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION scfledger_reject_change();
CREATE TRIGGER log_entries_no_truncate BEFORE TRUNCATE ON log_entries
    FOR EACH STATEMENT EXECUTE FUNCTION scfledger_reject_change();
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION scfledger_reject_change();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION scfledger_reject_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION scfledger_reject_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION scfledger_reject_change();
