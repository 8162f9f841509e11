DROP INDEX outbound_job_completed_at;
DROP INDEX outbound_job_due;
