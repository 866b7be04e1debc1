/**
 * Carries a database migrated before the migrations were split by concern over to the split files.
 * Until then `workers/migrations` held nine files in the order they were written; now it holds one
 * file per concern (core jobs, timeline, realtime, operator, demo data) that together create the
 * same schema. node-pg-migrate refuses a database whose recorded migrations are missing from the
 * folder, so `migrateApp` calls this first: it rewrites the records of the nine as the records of
 * the files that replaced them, and leaves any database without them alone.
 */
import pg from 'pg'
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate'

/** The migrations before the split, in the order they ran. */
export const MIGRATIONS_BEFORE_SPLIT = [
  '1733000000000_jobs',
  '1733000000001_history',
  '1733000001300_imports',
  '1733000001400_csv-text',
  '1733000001401_batched-job-triggers',
  '1733000001501_file-parts-by-attempt',
  '1733000001600_lost_jobs',
  '1733000001700_login_throttle',
  '1733000001701_progress_per_attempt',
] as const

/** The files that create, together, what the nine created, in their order. */
export const MIGRATIONS_AFTER_SPLIT = [
  '1734000000000_core-jobs',
  '1734000000100_timeline',
  '1734000000200_realtime',
  '1734000000300_operator',
  '1734000000900_demo-cities',
  '1734000000901_demo-emails',
] as const

/** What `carryOverMigrationsBeforeSplit` found. */
export type CarryOver = 'carried-over' | 'nothing-to-carry'

/**
 * Rewrites, in one transaction, the records of the nine migrations before the split (in
 * `app.migrations`) as records of the files that replaced them, and drops the two functions only
 * they left behind (the row triggers' `app.jobs_timeline()` and `app.jobs_notify()`, unused since
 * `1733000001401`). Holds node-pg-migrate's advisory lock meanwhile, so it never interleaves with
 * a migration run. Returns `nothing-to-carry` for a database that records none of the nine (a new
 * one, or one already carried over).
 *
 * @throws when the database records only some of the nine: it is neither the old schema nor the
 *   new one. Apply the rest with the release before the split, then start again (see the README).
 */
export async function carryOverMigrationsBeforeSplit(databaseUrl: string): Promise<CarryOver> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock($1)', [PG_MIGRATE_LOCK_ID])
    const outcome = await carryOver(client)
    await client.query('COMMIT')
    return outcome
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    await client.end()
  }
}

async function carryOver(client: pg.Client): Promise<CarryOver> {
  const { rows: table } = await client.query<{ exists: boolean }>(
    `SELECT to_regclass('app.migrations') IS NOT NULL AS exists`,
  )
  if (!table[0]?.exists) return 'nothing-to-carry'
  const { rows } = await client.query<{ name: string; run_on: Date }>(
    'SELECT name, run_on FROM app.migrations WHERE name = ANY($1) ORDER BY run_on, id',
    [MIGRATIONS_BEFORE_SPLIT],
  )
  if (rows.length === 0) return 'nothing-to-carry'
  const recorded = new Set(rows.map((r) => r.name))
  const missing = MIGRATIONS_BEFORE_SPLIT.filter((name) => !recorded.has(name))
  if (missing.length > 0)
    throw new Error(
      `this database ran only some of the migrations from before they were split by concern ` +
        `(missing: ${missing.join(', ')}). Apply those with the release before the split ` +
        `(npm run db:migrate there), or recreate the database; see README "Migrations".`,
    )
  // The replacements take the place of the nine in the run order (node-pg-migrate reads it by
  // run_on, then id): the time the last of them ran, in their own order.
  const ranAt = rows.at(-1)!.run_on
  await client.query('DELETE FROM app.migrations WHERE name = ANY($1)', [MIGRATIONS_BEFORE_SPLIT])
  for (const name of MIGRATIONS_AFTER_SPLIT)
    await client.query('INSERT INTO app.migrations (name, run_on) VALUES ($1, $2)', [name, ranAt])
  await client.query('DROP FUNCTION IF EXISTS app.jobs_timeline(), app.jobs_notify()')
  return 'carried-over'
}
