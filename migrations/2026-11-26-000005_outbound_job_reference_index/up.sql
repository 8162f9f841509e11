-- Deleting a finished job sets `outbound_message_log.outbound_job_id` to NULL on its reply
-- (ON DELETE SET NULL). Without an index, every deleted job scanned the whole outbound log,
-- and pruning slowed as the log grew until its statements hit the statement timeout.
CREATE INDEX outbound_message_log_outbound_job ON outbound_message_log (outbound_job_id)
    WHERE outbound_job_id IS NOT NULL;
