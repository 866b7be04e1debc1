-- Up Migration
-- Append-only timeline of every job: written by a trigger on app.jobs, so no code path can
-- change a job without leaving a trace. Rows are never updated; retention deletes them with the job.
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

CREATE FUNCTION app.jobs_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_quarter int;
  new_quarter int;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO app.job_events (job_id, kind, attempt) VALUES (NEW.id, 'queued', NEW.attempt);
    RETURN NULL;
  END IF;
  IF NEW.state = 'active' AND (OLD.state <> 'active' OR NEW.attempt <> OLD.attempt) THEN
    INSERT INTO app.job_events (job_id, kind, attempt, data)
    VALUES (NEW.id, 'started', NEW.attempt, jsonb_build_object('maxAttempts', NEW.max_attempts));
  END IF;
  IF NEW.cancel_requested_at IS NOT NULL AND OLD.cancel_requested_at IS NULL AND NEW.state = 'active' THEN
    INSERT INTO app.job_events (job_id, kind, attempt, actor) VALUES (NEW.id, 'cancel_requested', NEW.attempt, NEW.cancelled_by);
  END IF;
  -- Progress milestones: each quarter of the total, not every update.
  IF NEW.state = 'active' AND NEW.progress IS NOT NULL AND (NEW.progress->>'total')::numeric > 0 THEN
    new_quarter := floor(4 * (NEW.progress->>'current')::numeric / (NEW.progress->>'total')::numeric);
    old_quarter := CASE WHEN OLD.progress IS NULL OR (OLD.progress->>'total')::numeric = 0 OR OLD.attempt <> NEW.attempt THEN 0
                        ELSE floor(4 * (OLD.progress->>'current')::numeric / (OLD.progress->>'total')::numeric) END;
    IF new_quarter > old_quarter AND new_quarter BETWEEN 1 AND 3 THEN
      INSERT INTO app.job_events (job_id, kind, attempt, data) VALUES (NEW.id, 'progress', NEW.attempt, NEW.progress);
    END IF;
  END IF;
  IF NEW.state = 'queued' AND OLD.state IN ('failed', 'cancelled') THEN
    -- Only operators send a settled job back (app/admin): the timeline says so.
    INSERT INTO app.job_events (job_id, kind, attempt, actor) VALUES (NEW.id, 'retry_requested', NEW.attempt, 'operator');
  END IF;
  IF NEW.state = 'queued' AND OLD.state = 'active' THEN
    INSERT INTO app.job_events (job_id, kind, attempt, data)
    VALUES (NEW.id, 'retry_scheduled', NEW.attempt, jsonb_build_object('error', NEW.error, 'retryAt', NEW.retry_at));
  END IF;
  IF NEW.state <> OLD.state AND NEW.state IN ('completed', 'failed', 'cancelled') THEN
    INSERT INTO app.job_events (job_id, kind, attempt, actor, data)
    VALUES (NEW.id, NEW.state, NEW.attempt,
            CASE WHEN NEW.state = 'cancelled' THEN NEW.cancelled_by END,
            CASE WHEN NEW.state = 'failed' THEN jsonb_build_object('error', NEW.error) END);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_timeline AFTER INSERT OR UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app.jobs_timeline();

-- Idempotency keys: repeated requests with one key create one job (per owner and queue).
ALTER TABLE app.jobs ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX jobs_idempotency ON app.jobs (owner_id, queue, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Keyset pagination of history across queues and states.
CREATE INDEX jobs_owner_queue_recent ON app.jobs (owner_id, queue, created_at DESC, id DESC);
CREATE INDEX jobs_recent ON app.jobs (created_at DESC, id DESC);

-- Messages the mail example "sent" with the recording transport (no SMTP_URL): shown at /emails.
CREATE TABLE app.sent_emails (
  id         bigserial PRIMARY KEY,
  job_id     uuid REFERENCES app.jobs (id) ON DELETE SET NULL,
  owner_id   text NOT NULL,
  to_address text NOT NULL,
  subject    text NOT NULL,
  text_body  text NOT NULL,
  message_id text,
  transport  text NOT NULL,
  sent_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sent_emails_owner ON app.sent_emails (owner_id, sent_at DESC);

-- Down Migration
DROP TABLE app.sent_emails;
DROP INDEX app.jobs_recent;
DROP INDEX app.jobs_owner_queue_recent;
DROP INDEX app.jobs_idempotency;
ALTER TABLE app.jobs DROP COLUMN idempotency_key;
DROP TRIGGER jobs_timeline ON app.jobs;
DROP FUNCTION app.jobs_timeline();
DROP TABLE app.job_events;
