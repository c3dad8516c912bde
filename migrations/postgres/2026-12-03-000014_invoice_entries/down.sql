DROP TABLE invoice_entries;
