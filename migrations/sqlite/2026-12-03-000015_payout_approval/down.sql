ALTER TABLE payout_batches DROP COLUMN instructed_seq;
ALTER TABLE payout_batches DROP COLUMN approved_by;
ALTER TABLE payout_batches DROP COLUMN proposed_by;
