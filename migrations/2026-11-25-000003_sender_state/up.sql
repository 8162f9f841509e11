-- How often a send whose outcome was unknown was sent again (invariant 6 allows it only after
-- the uncertainty window passed without a status webhook).
ALTER TABLE outbound_message_log ADD COLUMN uncertain_resends INTEGER NOT NULL DEFAULT 0;

-- Rows a sender may claim, and rows its upkeep looks at.
CREATE INDEX outbound_message_log_due ON outbound_message_log (run_at, id)
    WHERE status IN ('queued', 'sending', 'uncertain');

-- Pauses shared by every sender replica, per business number: throughput limits from Meta
-- (130429 and friends) and broken access tokens.
CREATE TABLE sender_throttle (
    phone_number_id  TEXT PRIMARY KEY,
    paused_until     TIMESTAMPTZ NOT NULL,
    reason           TEXT NOT NULL,
    error_code       INTEGER,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
