DROP TABLE ledger_head;
