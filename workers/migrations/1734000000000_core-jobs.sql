-- Up Migration
-- Core of the template: our own job records, their change notifications, and job files. Status and
-- history must not depend on pg-boss retention. (A database migrated before this file existed had
-- the same schema from nine older files: workers/migrate.ts carries their records over.)
CREATE SCHEMA IF NOT EXISTS app;

-- Every change of any job takes the next value: clients keep the snapshot with the highest seq.
CREATE SEQUENCE app.job_seq;

CREATE TABLE app.jobs (
  id                  uuid PRIMARY KEY,           -- the same id as the pg-boss job
  queue               text NOT NULL,
  owner_id            text NOT NULL,
  state               text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'active', 'completed', 'failed', 'cancelled')),
  payload             jsonb NOT NULL,
  progress            jsonb,
  result              jsonb,
  error               jsonb,
  attempt             integer NOT NULL DEFAULT 0,
  max_attempts        integer NOT NULL DEFAULT 1,
  cancel_requested_at timestamptz,
  cancelled_by        text CHECK (cancelled_by IN ('owner', 'operator', 'system')),
  retry_at            timestamptz,                -- when pg-boss starts the next attempt
  seq                 bigint NOT NULL DEFAULT nextval('app.job_seq'),
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  settled_at          timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- Repeated requests with one key create one job (per owner and queue).
  idempotency_key     text
);
CREATE INDEX jobs_owner_recent ON app.jobs (owner_id, created_at DESC, id DESC);
CREATE INDEX jobs_unsettled ON app.jobs (queue, state) WHERE state IN ('queued', 'active');
CREATE UNIQUE INDEX jobs_idempotency ON app.jobs (owner_id, queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Keyset pagination of history across queues and states.
CREATE INDEX jobs_owner_queue_recent ON app.jobs (owner_id, queue, created_at DESC, id DESC);
CREATE INDEX jobs_recent ON app.jobs (created_at DESC, id DESC);
-- The operator's stuck list shows jobs settled as failed because their pg-boss job was deleted
-- before they finished (lib/server/ops.ts stuckJobs). The partial index holds only those rows,
-- and error is written only when a job settles or is retried, so progress writes stay HOT.
CREATE INDEX jobs_lost ON app.jobs (settled_at DESC) WHERE state = 'failed' AND error->>'code' = 'JOB_LOST';

-- Planner statistics that keep up with bursts: the default (analyze after 10 % of the table
-- changed) leaves the statistics of an empty table in place while tens of thousands of jobs
-- arrive, and plans made from them scan the whole table per batch (see the README's performance
-- notes). Analyze after 1,000 changes plus 2 %; vacuum dead versions sooner too.
ALTER TABLE app.jobs SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02,
                          autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0.05);

-- The one JSON shape of a job (lib/jobs/job.ts JobSnapshot), used by reads and by NOTIFY.
CREATE FUNCTION app.job_snapshot(j app.jobs) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', j.id, 'queue', j.queue, 'state', j.state, 'payload', j.payload,
    'progress', j.progress, 'result', j.result, 'error', j.error,
    'attempt', j.attempt, 'maxAttempts', j.max_attempts,
    'cancelRequested', j.cancel_requested_at IS NOT NULL, 'cancelledBy', j.cancelled_by,
    'retryAt', j.retry_at,
    'createdAt', j.created_at, 'startedAt', j.started_at, 'settledAt', j.settled_at,
    'seq', j.seq)
$$;

CREATE FUNCTION app.jobs_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.seq := nextval('app.job_seq');
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER jobs_touch BEFORE UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app.jobs_touch();

-- Progress belongs to its attempt: a new attempt starts with no progress (not attempt 1's last
-- report, carried over by the UPDATE that starts it). A BEFORE trigger, so no code path that
-- starts an attempt can forget.
CREATE FUNCTION app.jobs_progress_per_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.attempt <> OLD.attempt AND NEW.progress IS NOT DISTINCT FROM OLD.progress THEN
    NEW.progress := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER jobs_progress_per_attempt BEFORE UPDATE OF attempt ON app.jobs
  FOR EACH ROW EXECUTE FUNCTION app.jobs_progress_per_attempt();

-- Publishes every change on channel nbj_job_changed (lib/jobs/events.ts) at commit: one NOTIFY
-- per changed job, in seq order, written once per statement (the runner starts and completes a
-- batch of jobs in one UPDATE each) through transition tables.
-- NOTIFY payloads are limited to 8000 bytes: a larger snapshot is sent as a reference
-- ("snapshot": null) and listeners read the row instead, so nothing is dropped.
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
-- Transition tables allow one event per trigger: an INSERT and an UPDATE trigger.
-- The UPDATE notifier is named jobs_notify (tests disable it to simulate a lost notification).
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON app.jobs REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_notify_changed();
CREATE TRIGGER jobs_notify AFTER UPDATE ON app.jobs REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app.jobs_notify_changed();

-- Job files live in the database so the web tier (possibly serverless) and the worker need no
-- shared disk. One row per part of about 1 MiB; EXTERNAL skips compression.
-- A job's file belongs to the attempt that wrote it, and only the attempt that owns the job may
-- write: the one app.jobs shows active. An attempt settled without its handler (it ignored its
-- expiry, a cancel or a shutdown) may still be running and writing; its parts are refused, and the
-- first part of a new attempt replaces every part of earlier ones, so a job has exactly one file.
CREATE TABLE app.job_file_parts (
  job_id  uuid NOT NULL REFERENCES app.jobs (id) ON DELETE CASCADE,
  part    integer NOT NULL,
  data    bytea NOT NULL,
  attempt integer NOT NULL,
  PRIMARY KEY (job_id, part)
);
ALTER TABLE app.job_file_parts ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE FUNCTION app.job_file_parts_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owning_attempt integer;
BEGIN
  -- FOR SHARE: a settle of the job waits for this part's transaction and this part waits for a
  -- settle in flight, so no part lands after its attempt lost the job.
  SELECT attempt INTO owning_attempt FROM app.jobs WHERE id = NEW.job_id AND state = 'active' FOR SHARE;
  IF owning_attempt IS DISTINCT FROM NEW.attempt THEN
    -- SQLSTATE NBJ01 is what lib/server/file-store.ts recognises as "a late attempt's write".
    RAISE EXCEPTION 'attempt % of job % does not own the job: its file part is discarded', NEW.attempt, NEW.job_id
      USING ERRCODE = 'NBJ01';
  END IF;
  DELETE FROM app.job_file_parts WHERE job_id = NEW.job_id AND attempt <> NEW.attempt;
  RETURN NEW;
END $$;
CREATE TRIGGER job_file_parts_fence BEFORE INSERT ON app.job_file_parts
  FOR EACH ROW EXECUTE FUNCTION app.job_file_parts_fence();

-- The CSV rules of lib/server/csv.ts, for exports that let PostgreSQL write the file
-- (`COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER)`, lib/server/csv-copy.ts). Wrap every
-- text column of such a SELECT in app.csv_text(); numbers, NULLs and the quoting stay COPY's.
--
-- It does two things, so COPY's bytes equal those of the JavaScript writer (csv-stringify):
-- 1. Formula neutralisation (OWASP "CSV injection"): text starting with =, +, -, @, a tab or a
--    CR, possibly after leading spaces, gets a leading single quote. Numbers are not text and are
--    never altered.
-- 2. An empty string becomes NULL: COPY writes '' as "" (quoted, to tell it from NULL), the
--    JavaScript writer as an empty field. A CSV reader cannot tell them apart either way.
-- A SQL function with one expression is inlined by the planner: no call per row. The tests are
-- ordered for speed (this runs on every text cell of an export: a million-row export has
-- millions): one integer comparison settles most cells (a letter, or a digit); only a cell that
-- starts with a space, or with one of the characters above, or is empty, goes further.
-- ascii() is the first character's code point: 0 for '', NULL for NULL (which stays NULL).
CREATE FUNCTION app.csv_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN ascii(value) > 64 THEN value
    WHEN ascii(value) NOT IN (0, 9, 13, 32, 43, 45, 61, 64) THEN value
    WHEN value = '' THEN NULL
    WHEN ascii(ltrim(value, ' ')) IN (9, 13, 43, 45, 61, 64) THEN '''' || value
    ELSE value
  END
$$;

-- Down Migration
DROP FUNCTION app.csv_text(text);
DROP TABLE app.job_file_parts;
DROP FUNCTION app.job_file_parts_fence();
DROP FUNCTION app.job_snapshot(app.jobs);
DROP TABLE app.jobs;
DROP FUNCTION app.jobs_notify_changed();
DROP FUNCTION app.jobs_progress_per_attempt();
DROP FUNCTION app.jobs_touch();
DROP SEQUENCE app.job_seq;
