ALTER TABLE programs DROP COLUMN early_payment_budget_minor;
DROP TABLE advance_shares;
ALTER TABLE programs DROP COLUMN funders;
ALTER TABLE programs DROP COLUMN allocation;
