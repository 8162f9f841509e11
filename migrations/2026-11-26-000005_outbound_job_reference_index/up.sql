-- Deleting a finished job sets `outbound_message_log.outbound_job_id` to NULL on its reply
-- (ON DELETE SET NULL). Without an index, every deleted job scanned the whole outbound log,
-- and pruning slowed as the log grew until its statements hit the statement timeout.
--
-- Built CONCURRENTLY (outside a transaction, see metadata.toml) so that a large log keeps
-- taking replies while it builds. If the build is interrupted, Postgres leaves an INVALID
-- index behind: drop it (`DROP INDEX CONCURRENTLY outbound_message_log_outbound_job`) and
-- run `migrate` again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_message_log_outbound_job
    ON outbound_message_log (outbound_job_id)
    WHERE outbound_job_id IS NOT NULL
