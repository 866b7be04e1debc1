-- Up Migration
-- The operator's stuck list shows jobs settled as failed because their pg-boss job was deleted
-- before they finished (lib/server/ops.ts stuckJobs). The partial index holds only those rows,
-- and error is written only when a job settles or is retried, so progress writes stay HOT.
CREATE INDEX jobs_lost ON app.jobs (settled_at DESC) WHERE state = 'failed' AND error->>'code' = 'JOB_LOST';

-- Down Migration
DROP INDEX app.jobs_lost;
