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
CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries
BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END;
CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries
BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END;
CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END;
