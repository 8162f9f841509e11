-- Jobs a runner may claim: queued ones whose run_at has come, and running ones whose lease
-- expired (a claim sets run_at to the end of the lease, so both are "run_at <= now()").
CREATE INDEX outbound_job_due ON outbound_job (run_at, id) WHERE status IN ('queued', 'running');

-- The runner's metrics look at recent outcomes.
CREATE INDEX outbound_job_completed_at ON outbound_job (completed_at) WHERE completed_at IS NOT NULL;
