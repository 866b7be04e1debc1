-- Up Migration
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
-- A SQL function with one expression is inlined by the planner: no call per row.
CREATE FUNCTION app.csv_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN value = '' THEN NULL
    WHEN left(ltrim(value, ' '), 1) IN ('=', '+', '-', '@', E'\t', E'\r') THEN '''' || value
    ELSE value
  END
$$;

-- Down Migration
DROP FUNCTION app.csv_text(text);
