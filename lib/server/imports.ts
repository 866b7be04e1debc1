/**
 * SQL of the CSV import example: staging an attempt's rows in batches, publishing them in one
 * transaction, and reading the published rows and the rejected ones back for their owner.
 * Tables: app.import_staged_cities, app.imported_cities, app.import_rejections,
 * app.import_publications (workers/migrations/1734000000900_demo-cities.sql).
 */
import type pg from 'pg'
import QueryStream from 'pg-query-stream'
import type { ImportRow } from '@/lib/jobs/imports'
import { withTransaction, type Queryable } from './db'

/** A valid row, where it was in the file (the header is row 1) and its cells as read. */
export interface StagedRow extends ImportRow {
  rowNumber: number
  cells: string[]
}

/** A rejected row: where it was, why, and its cells as read. */
export interface Rejection {
  rowNumber: number
  reason: string
  fields: string[]
}

/** One attempt of one import job. */
export interface ImportAttempt {
  jobId: string
  attempt: number
}

/**
 * Stages `rows` for `attempt`, in one statement. A row whose `id` is already staged (an earlier
 * row of the same file) is not staged: it is returned, so the caller can reject it.
 */
export async function stageRows(
  db: Queryable,
  { jobId, attempt }: ImportAttempt,
  rows: StagedRow[],
): Promise<StagedRow[]> {
  if (rows.length === 0) return []
  const { rows: staged } = await db.query<{ row_number: number }>(
    `INSERT INTO app.import_staged_cities
       (job_id, attempt, row_number, id, name, country, admin_code, population, latitude, longitude)
     SELECT $1, $2, r.* FROM unnest($3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                                    $9::float8[], $10::float8[])
                       AS r(row_number, id, name, country, admin_code, population, latitude, longitude)
     ORDER BY r.row_number
     ON CONFLICT (job_id, attempt, id) DO NOTHING
     RETURNING row_number`,
    [
      jobId,
      attempt,
      rows.map((r) => r.rowNumber),
      rows.map((r) => r.id),
      rows.map((r) => r.name),
      rows.map((r) => r.country),
      rows.map((r) => r.admin_code),
      rows.map((r) => r.population),
      rows.map((r) => r.latitude),
      rows.map((r) => r.longitude),
    ],
  )
  const stagedNumbers = new Set(staged.map((r) => r.row_number))
  return rows.filter((r) => !stagedNumbers.has(r.rowNumber))
}

/** Records `rejections` for `attempt`, in one statement. */
export async function recordRejections(db: Queryable, { jobId, attempt }: ImportAttempt, rejections: Rejection[]) {
  if (rejections.length === 0) return
  // text[][] must be rectangular: each row's cells travel as one JSON array instead.
  await db.query(
    `INSERT INTO app.import_rejections (job_id, attempt, row_number, reason, fields)
     SELECT $1, $2, r.row_number, r.reason, ARRAY(SELECT jsonb_array_elements_text(r.fields))
       FROM unnest($3::int[], $4::text[], $5::jsonb[]) AS r(row_number, reason, fields)`,
    [
      jobId,
      attempt,
      rejections.map((r) => r.rowNumber),
      rejections.map((r) => r.reason),
      rejections.map((r) => JSON.stringify(r.fields)),
    ],
  )
}

/** Deletes what `attempt` staged and rejected (a cancelled or failed attempt leaves nothing). */
export async function discardAttempt(db: Queryable, { jobId, attempt }: ImportAttempt): Promise<void> {
  await db.query('DELETE FROM app.import_staged_cities WHERE job_id = $1 AND attempt = $2', [jobId, attempt])
  await db.query('DELETE FROM app.import_rejections WHERE job_id = $1 AND attempt = $2', [jobId, attempt])
}

/** Deletes what earlier attempts of the job left behind (a retry starts over). */
export async function discardEarlierAttempts(db: Queryable, { jobId, attempt }: ImportAttempt): Promise<void> {
  await db.query('DELETE FROM app.import_staged_cities WHERE job_id = $1 AND attempt < $2', [jobId, attempt])
  await db.query('DELETE FROM app.import_rejections WHERE job_id = $1 AND attempt < $2', [jobId, attempt])
}

/** A published import: its attempt, counts and the file's header, or null while it is not published. */
export async function findPublication(
  db: Queryable,
  jobId: string,
): Promise<{ attempt: number; imported: number; rejected: number; columns: string[] } | null> {
  const { rows } = await db.query<{ attempt: number; imported: number; rejected: number; columns: string[] }>(
    'SELECT attempt, imported, rejected, columns FROM app.import_publications WHERE job_id = $1',
    [jobId],
  )
  return rows[0] ?? null
}

/**
 * - `published`: the attempt's staged rows are now the owner's, all at once.
 * - `cancel_requested`: the owner asked to cancel before the publish could lock the job; nothing changed.
 * - `not_active`: this attempt no longer owns the job (settled, or replaced by a retry); nothing changed.
 */
export type PublishOutcome =
  { kind: 'published'; imported: number; rejected: number } | { kind: 'cancel_requested' } | { kind: 'not_active' }

/**
 * Publishes `attempt` in one transaction: locks the job's row (a cancel request waits for the
 * commit, and one that came first wins), moves the staged rows to `app.imported_cities` owned by
 * `ownerId`, records the publication and deletes the upload. Either all of it happens or none.
 */
export async function publishImport(
  pool: pg.Pool,
  { jobId, attempt }: ImportAttempt,
  { ownerId, uploadId, columns }: { ownerId: string; uploadId: string; columns: readonly string[] },
): Promise<PublishOutcome> {
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ cancel_requested: boolean }>(
      `SELECT cancel_requested_at IS NOT NULL AS cancel_requested FROM app.jobs
        WHERE id = $1 AND attempt = $2 AND state = 'active' FOR UPDATE`,
      [jobId, attempt],
    )
    if (!rows[0]) return { kind: 'not_active' } as const
    if (rows[0].cancel_requested) return { kind: 'cancel_requested' } as const
    const moved = await tx.query(
      `WITH staged AS (
         DELETE FROM app.import_staged_cities WHERE job_id = $1 AND attempt = $2
         RETURNING row_number, id, name, country, admin_code, population, latitude, longitude)
       INSERT INTO app.imported_cities
         (job_id, owner_id, row_number, id, name, country, admin_code, population, latitude, longitude)
       SELECT $1, $3, row_number, id, name, country, admin_code, population, latitude, longitude FROM staged`,
      [jobId, attempt, ownerId],
    )
    const rejected = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM app.import_rejections WHERE job_id = $1 AND attempt = $2',
      [jobId, attempt],
    )
    const imported = moved.rowCount ?? 0
    const rejectedCount = rejected.rows[0]?.n ?? 0
    await tx.query(
      'INSERT INTO app.import_publications (job_id, attempt, imported, rejected, columns) VALUES ($1, $2, $3, $4, $5)',
      [jobId, attempt, imported, rejectedCount, columns],
    )
    await tx.query('DELETE FROM app.uploads WHERE id = $1', [uploadId])
    return { kind: 'published', imported, rejected: rejectedCount } as const
  })
}

/** One published row, as the rows page shows it. */
export interface ImportedCity extends ImportRow {
  rowNumber: number
}

/**
 * A page of the rows import `jobId` published, in file order: `limit` rows (default 50) after
 * row `after`, or, with `before`, the `limit` rows before that row. The caller must have checked
 * that the viewer owns the job.
 */
export async function listImportedRows(
  db: Queryable,
  jobId: string,
  page: { after?: number; before?: number; limit?: number } = {},
): Promise<{ rows: ImportedCity[]; hasPrevious: boolean; hasNext: boolean; total: number }> {
  const limit = page.limit ?? 50
  const backwards = page.before !== undefined
  const { rows } = await db.query<{
    row_number: number
    id: number
    name: string
    country: string
    admin_code: string | null
    population: number
    latitude: number
    longitude: number
  }>(
    `SELECT row_number, id, name, country, admin_code, population, latitude, longitude FROM app.imported_cities
      WHERE job_id = $1 AND ${backwards ? 'row_number < $2' : 'row_number > $2'}
      ORDER BY row_number ${backwards ? 'DESC' : 'ASC'} LIMIT $3`,
    [jobId, backwards ? page.before : (page.after ?? 0), limit + 1],
  )
  const more = rows.length > limit
  const pageRows = rows.slice(0, limit)
  if (backwards) pageRows.reverse()
  const first = pageRows[0]?.row_number
  const last = pageRows.at(-1)?.row_number
  const [previous, next, total] = await Promise.all([
    backwards
      ? Promise.resolve(more)
      : first === undefined
        ? Promise.resolve(false)
        : exists(db, 'SELECT 1 FROM app.imported_cities WHERE job_id = $1 AND row_number < $2 LIMIT 1', [jobId, first]),
    !backwards
      ? Promise.resolve(more)
      : last === undefined
        ? Promise.resolve(false)
        : exists(db, 'SELECT 1 FROM app.imported_cities WHERE job_id = $1 AND row_number > $2 LIMIT 1', [jobId, last]),
    db
      .query<{ n: number }>('SELECT count(*)::int AS n FROM app.imported_cities WHERE job_id = $1', [jobId])
      .then((r) => r.rows[0]?.n ?? 0),
  ])
  return {
    rows: pageRows.map((r) => ({
      rowNumber: r.row_number,
      id: r.id,
      name: r.name,
      country: r.country,
      admin_code: r.admin_code,
      population: r.population,
      latitude: r.latitude,
      longitude: r.longitude,
    })),
    hasPrevious: previous,
    hasNext: next,
    total,
  }
}

async function exists(db: Queryable, text: string, values: unknown[]): Promise<boolean> {
  return ((await db.query(text, values)).rowCount ?? 0) > 0
}

/**
 * The published attempt's rejected rows, in file order, as a stream of `{ row, reason, cells }`
 * (`cells` follow the file's header, `findPublication(...).columns`)
 * read through a cursor (memory stays at one batch). `client` must be a dedicated connection:
 * release it when the stream closes. The caller must have checked that the viewer owns the job.
 */
export function streamRejections(client: pg.PoolClient, jobId: string) {
  return client.query(
    new QueryStream(
      `SELECT r.row_number AS row, r.reason, r.fields AS cells
         FROM app.import_rejections r JOIN app.import_publications p ON p.job_id = r.job_id AND p.attempt = r.attempt
        WHERE r.job_id = $1 ORDER BY r.row_number`,
      [jobId],
      { batchSize: 500 },
    ),
  )
}
