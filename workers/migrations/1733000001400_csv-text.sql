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
