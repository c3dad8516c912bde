-- Which entries name each invoice (any "invoice_id" in the body, at any
-- depth), so that an invoice's page shows its life without reading the
-- whole log. Filled from the log for the entries already in it.
CREATE TABLE invoice_entries (
    invoice_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);
INSERT OR IGNORE INTO invoice_entries (invoice_id, seq)
SELECT DISTINCT t.value, e.seq
FROM log_entries e, json_tree(e.canonical, '$.body') t
WHERE t.key = 'invoice_id' AND t.type = 'text' AND e.kind <> 'journal.posted';
