-- Witnesses' cosignatures of checkpoints (C2SP tlog-cosignature), each
-- checked against the witness keys the ledger is configured with before it
-- is kept; the first one of a witness for a tree size stays. Served
-- appended to the checkpoint note.
CREATE TABLE cosignatures (
    tree_size BIGINT NOT NULL REFERENCES checkpoints (tree_size),
    witness TEXT NOT NULL,
    -- The signature line, "— <witness> base64(...)", without its newline.
    line TEXT NOT NULL,
    -- The witness's timestamp, seconds since 1970.
    cosigned_at BIGINT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tree_size, witness)
);
