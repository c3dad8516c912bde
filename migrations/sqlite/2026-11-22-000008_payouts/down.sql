DROP TABLE bank_statement_files;
DROP TABLE payout_batches;
ALTER TABLE bank_lines DROP COLUMN payment_information_id;
DROP INDEX payouts_by_status;
ALTER TABLE payouts DROP COLUMN confirmed_seq;
ALTER TABLE payouts DROP COLUMN batch_id;
ALTER TABLE parties DROP COLUMN bic;
ALTER TABLE parties DROP COLUMN iban;
