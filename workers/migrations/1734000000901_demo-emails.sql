-- Up Migration
-- Demo data of the mail example (workers/queues/deferred-queue.ts, lib/server/mailer.ts): the
-- messages it "sent" with the recording transport (no SMTP_URL), shown at /emails. Removing the
-- demo removes this file (README "Removing the demo").
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
