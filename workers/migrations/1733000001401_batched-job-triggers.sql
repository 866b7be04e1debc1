-- Up Migration
-- Timeline rows and change notifications written once per statement instead of once per row.
-- The runner marks a fetched batch active and completes a batch of jobs in one UPDATE each; with
-- row triggers every job of the batch still ran two trigger functions (a plpgsql call, an INSERT
-- and a NOTIFY each). These statement triggers see the whole batch through transition tables and
-- write its timeline rows in one INSERT and its notifications from one SELECT.
--
-- What is kept exactly: every timeline entry of 1733000000001_history (same kinds, data, order
-- within a job), and one NOTIFY per changed job with the same payload as 1733000000000_jobs,
-- carrying its seq, so the realtime server and every listener read what they read before.
-- jobs_touch (seq and updated_at) stays a row trigger: it must run before each row is stored.
DROP TRIGGER jobs_timeline ON app.jobs;
DROP TRIGGER jobs_notify ON app.jobs;

-- One NOTIFY per row of `changed`, in seq order; over 7900 bytes, the reference-only payload
-- (see the NOTIFY size comment in 1733000000000_jobs).
CREATE FUNCTION app.jobs_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('nbj_job_changed',
                    CASE WHEN octet_length(p.payload) > 7900
                         THEN jsonb_build_object('id', p.id, 'owner', p.owner_id, 'seq', p.seq, 'snapshot', NULL)::text
                         ELSE p.payload END)
     FROM (SELECT c.id, c.owner_id, c.seq,
                  jsonb_build_object('id', c.id, 'owner', c.owner_id, 'seq', c.seq,
                                     'snapshot', app.job_snapshot(c::app.jobs))::text AS payload
             FROM changed c
            ORDER BY c.seq) p;
  RETURN NULL;
END $$;

CREATE FUNCTION app.jobs_timeline_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.job_events (job_id, kind, attempt)
  SELECT c.id, 'queued', c.attempt FROM changed c ORDER BY c.seq;
  RETURN NULL;
END $$;

-- The rules of app.jobs_timeline() (1733000000001_history), one branch per entry kind, in its order.
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

-- Transition tables allow one event per trigger: an INSERT and an UPDATE trigger for each.
-- The UPDATE notifier keeps the name jobs_notify (tests disable it to simulate a lost notification).
CREATE TRIGGER jobs_timeline_insert AFTER INSERT ON app.jobs REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_timeline_inserted();
CREATE TRIGGER jobs_timeline AFTER UPDATE ON app.jobs REFERENCING OLD TABLE AS previous NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_timeline_updated();
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON app.jobs REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_notify_changed();
CREATE TRIGGER jobs_notify AFTER UPDATE ON app.jobs REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_notify_changed();

-- Planner statistics that keep up with bursts: the default (analyze after 10 % of the table
-- changed) leaves the statistics of an empty table in place while tens of thousands of jobs
-- arrive, and plans made from them scan the whole table per batch (see the README's performance
-- notes). Analyze after 1,000 changes plus 2 %; vacuum dead versions sooner too.
ALTER TABLE app.jobs SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02,
                          autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE app.job_events SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);

-- Down Migration
ALTER TABLE app.job_events RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor);
ALTER TABLE app.jobs RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor,
                            autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor);
DROP TRIGGER jobs_notify ON app.jobs;
DROP TRIGGER jobs_notify_insert ON app.jobs;
DROP TRIGGER jobs_timeline ON app.jobs;
DROP TRIGGER jobs_timeline_insert ON app.jobs;
DROP FUNCTION app.jobs_timeline_updated();
DROP FUNCTION app.jobs_timeline_inserted();
DROP FUNCTION app.jobs_notify_changed();
CREATE TRIGGER jobs_timeline AFTER INSERT OR UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app.jobs_timeline();
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app.jobs_notify();
