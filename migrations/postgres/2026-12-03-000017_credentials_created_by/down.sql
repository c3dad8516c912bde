ALTER TABLE api_keys DROP COLUMN created_by;
ALTER TABLE users DROP COLUMN created_by;
