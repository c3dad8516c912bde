ALTER TABLE parties DROP COLUMN requested_seq;
ALTER TABLE parties DROP COLUMN requested_bic;
ALTER TABLE parties DROP COLUMN requested_iban;
