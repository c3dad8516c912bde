DROP TABLE advance_shares;
ALTER TABLE programs DROP COLUMN funders;
ALTER TABLE programs DROP COLUMN allocation;
