-- Up Migration
-- socket.io's postgres adapter (workers/realtime.ts) stores broadcasts over NOTIFY's 8000-byte
-- limit here.
CREATE TABLE app.socket_io_attachments (
  id         bigserial UNIQUE,
  created_at timestamptz DEFAULT now(),
  payload    bytea
);

-- Down Migration
DROP TABLE app.socket_io_attachments;
