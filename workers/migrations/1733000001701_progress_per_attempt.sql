-- Up Migration
-- Progress milestones belong to their attempt: a new attempt starts with no progress, so the
-- timeline's quarters of attempt 2 are its own (not attempt 1's last report, carried over by the
-- UPDATE that starts it). A BEFORE trigger, so no code path that starts an attempt can forget.
CREATE FUNCTION app.jobs_progress_per_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.attempt <> OLD.attempt AND NEW.progress IS NOT DISTINCT FROM OLD.progress THEN
    NEW.progress := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER jobs_progress_per_attempt BEFORE UPDATE OF attempt ON app.jobs
  FOR EACH ROW EXECUTE FUNCTION app.jobs_progress_per_attempt();

-- Down Migration
DROP TRIGGER jobs_progress_per_attempt ON app.jobs;
DROP FUNCTION app.jobs_progress_per_attempt();
