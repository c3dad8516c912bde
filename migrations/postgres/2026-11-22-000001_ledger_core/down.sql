DROP TABLE api_keys;
DROP TABLE balances;
DROP TABLE postings;
DROP TABLE checkpoints;
DROP TABLE merkle_nodes;
DROP TABLE log_entries;
DROP FUNCTION scfledger_reject_change();
