-- Four eyes on payouts: one treasury user proposes a batch, another approves
-- it (or declines it). A batch made before this migration was approved by
-- the one entry that made it.
ALTER TABLE payout_batches ADD COLUMN proposed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE payout_batches ADD COLUMN approved_by TEXT;
-- The entry that released the batch to the bank (its pain.001 file).
ALTER TABLE payout_batches ADD COLUMN instructed_seq BIGINT;
UPDATE payout_batches SET instructed_seq = created_seq;
