-- Who created each web user and API key: a web user's e-mail or
-- `api-key:ID`; empty for the ones set up from the command line or the demo.
-- Four eyes on payouts reads it: who proposed a batch cannot approve it with
-- a credential they created, directly or through credentials they created.
ALTER TABLE users ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
