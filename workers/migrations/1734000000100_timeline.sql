-- Up Migration
-- Timeline: an append-only record of every job, written by triggers on app.jobs, so no code path
-- can change a job without leaving a trace. Rows are never updated; retention deletes them with
-- the job. Written once per statement (the runner starts and completes a batch of jobs in one
-- UPDATE each): the statement triggers see the whole batch through transition tables and write
-- its rows in one INSERT.
CREATE TABLE app.job_events (
  id      bigserial PRIMARY KEY,
  job_id  uuid NOT NULL REFERENCES app.jobs (id) ON DELETE CASCADE,
  at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  kind    text NOT NULL,  -- queued | started | progress | cancel_requested | retry_scheduled | retry_requested | completed | failed | cancelled
  attempt integer NOT NULL,
  actor   text,           -- owner | operator | system, for cancel requests and cancellations
  data    jsonb
);
CREATE INDEX job_events_job ON app.job_events (job_id, id);
-- Analyze after 1,000 changes plus 2 %, like app.jobs (see the core jobs migration).
ALTER TABLE app.job_events SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);

CREATE FUNCTION app.jobs_timeline_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.job_events (job_id, kind, attempt)
  SELECT c.id, 'queued', c.attempt FROM changed c ORDER BY c.seq;
  RETURN NULL;
END $$;

-- One branch per entry kind, in the order they are written for one job.
CREATE FUNCTION app.jobs_timeline_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.job_events (job_id, kind, attempt, actor, data)
  SELECT n.id, e.kind, n.attempt, e.actor, e.data
    FROM changed n
    JOIN previous o ON o.id = n.id
   CROSS JOIN LATERAL (
          SELECT 1 AS ord, 'started' AS kind, NULL::text AS actor, jsonb_build_object('maxAttempts', n.max_attempts) AS data
           WHERE n.state = 'active' AND (o.state <> 'active' OR n.attempt <> o.attempt)
          UNION ALL
          SELECT 2, 'cancel_requested', n.cancelled_by, NULL
           WHERE n.cancel_requested_at IS NOT NULL AND o.cancel_requested_at IS NULL AND n.state = 'active'
          UNION ALL
          -- Progress milestones: each quarter of the total, not every update. NULLIF keeps a zero
          -- total from dividing: SQL, unlike the IF of the row trigger, may evaluate both sides of AND.
          SELECT 3, 'progress', NULL, n.progress
           WHERE n.state = 'active' AND n.progress IS NOT NULL
             AND floor(4 * (n.progress->>'current')::numeric / NULLIF((n.progress->>'total')::numeric, 0)) BETWEEN 1 AND 3
             AND floor(4 * (n.progress->>'current')::numeric / NULLIF((n.progress->>'total')::numeric, 0)) >
                 CASE WHEN o.progress IS NULL OR (o.progress->>'total')::numeric = 0 OR o.attempt <> n.attempt THEN 0
                      ELSE floor(4 * (o.progress->>'current')::numeric / NULLIF((o.progress->>'total')::numeric, 0)) END
          UNION ALL
          -- Only operators send a settled job back (app/admin): the timeline says so.
          SELECT 4, 'retry_requested', 'operator', NULL
           WHERE n.state = 'queued' AND o.state IN ('failed', 'cancelled')
          UNION ALL
          SELECT 5, 'retry_scheduled', NULL, jsonb_build_object('error', n.error, 'retryAt', n.retry_at)
           WHERE n.state = 'queued' AND o.state = 'active'
          UNION ALL
          SELECT 6, n.state, CASE WHEN n.state = 'cancelled' THEN n.cancelled_by END,
                 CASE WHEN n.state = 'failed' THEN jsonb_build_object('error', n.error) END
           WHERE n.state <> o.state AND n.state IN ('completed', 'failed', 'cancelled')
         ) e
   ORDER BY n.seq, e.ord;
  RETURN NULL;
END $$;

-- Transition tables allow one event per trigger: an INSERT and an UPDATE trigger.
CREATE TRIGGER jobs_timeline_insert AFTER INSERT ON app.jobs REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_timeline_inserted();
CREATE TRIGGER jobs_timeline AFTER UPDATE ON app.jobs REFERENCING OLD TABLE AS previous NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_timeline_updated();

-- Down Migration
DROP TRIGGER jobs_timeline ON app.jobs;
DROP TRIGGER jobs_timeline_insert ON app.jobs;
DROP FUNCTION app.jobs_timeline_updated();
DROP FUNCTION app.jobs_timeline_inserted();
DROP TABLE app.job_events;
