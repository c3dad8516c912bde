-- Which entries name each invoice (any "invoice_id" in the body, at any
-- depth), so that an invoice's page shows its life without reading the
-- whole log. Filled from the log for the entries already in it.
CREATE TABLE invoice_entries (
    invoice_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);
INSERT INTO invoice_entries (invoice_id, seq)
SELECT DISTINCT found #>> '{}', e.seq
FROM log_entries e,
     jsonb_path_query(e.canonical::jsonb -> 'body', 'strict $.**.invoice_id') AS found
WHERE jsonb_typeof(found) = 'string' AND e.kind <> 'journal.posted'
ON CONFLICT DO NOTHING;
