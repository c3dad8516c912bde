-- A supplier enters its bank account on the web; the change waits for an
-- operator's approval, and the supplier's payouts are held until then
-- (changed bank details are the classic payment fraud).
ALTER TABLE parties ADD COLUMN requested_iban TEXT;
ALTER TABLE parties ADD COLUMN requested_bic TEXT;
ALTER TABLE parties ADD COLUMN requested_seq BIGINT;
