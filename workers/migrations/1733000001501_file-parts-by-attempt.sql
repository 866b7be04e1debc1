-- Up Migration
-- A job's file belongs to the attempt that wrote it, and only the attempt that owns the job may
-- write: the one app.jobs shows active. An attempt settled without its handler (it ignored its
-- expiry, a cancel or a shutdown) may still be running and writing; its parts are refused, and the
-- first part of a new attempt replaces every part of earlier ones, so a job has exactly one file.
ALTER TABLE app.job_file_parts ADD COLUMN attempt integer;
UPDATE app.job_file_parts p SET attempt = j.attempt FROM app.jobs j WHERE j.id = p.job_id;
ALTER TABLE app.job_file_parts ALTER COLUMN attempt SET NOT NULL;

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

-- Down Migration
DROP TRIGGER job_file_parts_fence ON app.job_file_parts;
DROP FUNCTION app.job_file_parts_fence();
ALTER TABLE app.job_file_parts DROP COLUMN attempt;
