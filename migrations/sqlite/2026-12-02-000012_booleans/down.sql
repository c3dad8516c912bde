-- Flags are booleans. SQLite keeps a boolean as INTEGER 0/1, which is what
-- these columns already hold; only the PostgreSQL columns change type.
SELECT 1;
