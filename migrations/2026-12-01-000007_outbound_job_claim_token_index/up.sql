-- A turn's jobs share one claim token: completing, retrying or releasing a turn finds its
-- jobs by it. Built CONCURRENTLY so a large queue keeps taking jobs while it builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_job_claim_token ON outbound_job (claim_token)
    WHERE claim_token IS NOT NULL;
