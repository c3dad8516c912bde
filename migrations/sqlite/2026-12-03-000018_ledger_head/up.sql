-- The ledger's head: which writer may append (its epoch) and how far the
-- log goes. Every batch transaction advances it only if the epoch and the
-- tree size are still the ones its writer loaded, so a writer that lost its
-- lock, or was paused while another took over, can never commit (fencing;
-- docs/reliability.md). One row.
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Raised by one each time an instance becomes the writer.
    epoch BIGINT NOT NULL,
    -- Entries in the log as of the last committed batch.
    tree_size BIGINT NOT NULL,
    -- The writer: a name for people (host and process) and the URL other
    -- instances forward writes to (empty when it takes none).
    writer_name TEXT NOT NULL DEFAULT '',
    writer_url TEXT NOT NULL DEFAULT '',
    writer_since TIMESTAMP
);
INSERT INTO ledger_head (id, epoch, tree_size) SELECT 1, 0, COUNT(*) FROM log_entries;
