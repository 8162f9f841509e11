-- When the message that set `profile_name` was sent: only a newer message changes the name,
-- so a replayed or late delivery never overwrites newer contact data.
ALTER TABLE contact ADD COLUMN profile_name_at TIMESTAMPTZ;
