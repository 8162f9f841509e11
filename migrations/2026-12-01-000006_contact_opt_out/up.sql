-- When the customer opted out (invariant 11): nothing of ours is sent to them while it is set.
ALTER TABLE contact ADD COLUMN opted_out_at TIMESTAMPTZ;
