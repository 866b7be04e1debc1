/**
 * The migrations split by concern, against databases that ran the nine files from before the
 * split (kept as they were released in test/fixtures/migrations-before-split): carried over,
 * such a database ends with exactly the schema a new one gets, its rows kept.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createDatabase, dropDatabase, withDatabase } from '@/scripts/database'
import { createLogger } from './logger'
import { migrateApp } from './migrate'
import { MIGRATIONS_AFTER_SPLIT, MIGRATIONS_BEFORE_SPLIT } from './migrations-before-split'

const BEFORE_SPLIT_DIR = fileURLToPath(new URL('../test/fixtures/migrations-before-split', import.meta.url))
const log = createLogger('migrate-test')
const created: string[] = []

/** A new, empty database (not the migrated template), dropped after the file. */
async function emptyDatabase(): Promise<string> {
  const name = `nbj_m_${randomBytes(5).toString('hex')}`
  await createDatabase(inject('serverUrl'), name)
  created.push(name)
  return withDatabase(inject('serverUrl'), name)
}

afterAll(async () => {
  for (const name of created) await dropDatabase(inject('serverUrl'), name)
})

/** Runs the first `count` migrations from before the split, as the release before it did. */
async function migrateBeforeSplit(url: string, count = Infinity): Promise<void> {
  await runner({
    databaseUrl: url,
    dir: BEFORE_SPLIT_DIR,
    migrationsTable: 'migrations',
    migrationsSchema: 'app',
    createMigrationsSchema: true,
    direction: 'up',
    count,
    checkOrder: true,
    log: () => undefined,
  })
}

async function query<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

/**
 * Everything in schema `app` but the migration records, one line per object, as PostgreSQL itself
 * prints it: relations (kind, persistence, options), columns (in order, with type, nullability,
 * default and storage), constraints, indexes, triggers, functions and sequences.
 */
async function schemaOf(url: string): Promise<string[]> {
  const rows = await query<{ line: string }>(
    url,
    `SELECT format('relation %s %s %s %s', c.relname, c.relkind, c.relpersistence, c.reloptions) AS line
       FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relname NOT LIKE 'migrations%'
     UNION ALL
     SELECT format('column %s.%s #%s %s %s %s %s', c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attstorage)
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'S') AND a.attnum > 0
        AND NOT a.attisdropped AND c.relname NOT LIKE 'migrations%'
     UNION ALL
     SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE c.relnamespace = 'app'::regnamespace AND c.relname NOT LIKE 'migrations%'
     UNION ALL
     SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'app' AND tablename NOT LIKE 'migrations%'
     UNION ALL
     SELECT format('trigger %s %s', t.tgenabled, pg_get_triggerdef(t.oid))
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = 'app'::regnamespace AND NOT t.tgisinternal
     UNION ALL
     SELECT format('function %s', pg_get_functiondef(p.oid)) FROM pg_proc p WHERE p.pronamespace = 'app'::regnamespace
     UNION ALL
     SELECT format('sequence %s %s %s %s', sequencename, data_type, start_value, increment_by)
       FROM pg_sequences WHERE schemaname = 'app' AND sequencename NOT LIKE 'migrations%'`,
  )
  return rows.map((r) => r.line).sort()
}

async function recorded(url: string): Promise<string[]> {
  const rows = await query<{ name: string }>(url, 'SELECT name FROM app.migrations ORDER BY run_on, id')
  return rows.map((r) => r.name)
}

describe('migrations split by concern', () => {
  it('keep the files from before the split as they were released, named as the carry-over expects', () => {
    const files = readdirSync(BEFORE_SPLIT_DIR).map((file) => file.replace(/\.sql$/, ''))
    expect(files.sort()).toEqual([...MIGRATIONS_BEFORE_SPLIT])
    const current = readdirSync(fileURLToPath(new URL('./migrations', import.meta.url))).map((f) =>
      f.replace(/\.sql$/, ''),
    )
    expect(current.sort()).toEqual([...MIGRATIONS_AFTER_SPLIT])
  })

  it('carry a database migrated before the split over: same schema as a new one, same rows, the new files recorded', async () => {
    const [old, fresh] = await Promise.all([emptyDatabase(), emptyDatabase()])
    await migrateBeforeSplit(old)
    const jobId = randomUUID()
    await query(old, `INSERT INTO app.jobs (id, queue, owner_id, payload) VALUES ($1, 'exports', 'me', '{}')`, [jobId])

    await migrateApp(old, log)
    await migrateApp(fresh, log)

    expect(await schemaOf(old)).toEqual(await schemaOf(fresh))
    expect(await recorded(old)).toEqual([...MIGRATIONS_AFTER_SPLIT])
    expect(await recorded(fresh)).toEqual([...MIGRATIONS_AFTER_SPLIT])
    const jobs = await query<{ id: string; kind: string }>(
      old,
      'SELECT j.id, e.kind FROM app.jobs j JOIN app.job_events e ON e.job_id = j.id',
    )
    expect(jobs).toEqual([{ id: jobId, kind: 'queued' }])
    // Carried over once: a second start finds nothing to do.
    await migrateApp(old, log)
    expect(await recorded(old)).toEqual([...MIGRATIONS_AFTER_SPLIT])
  })

  it('refuse a database that ran only some of the migrations from before the split, naming the missing ones', async () => {
    const partial = await emptyDatabase()
    await migrateBeforeSplit(partial, 7)
    await expect(migrateApp(partial, log)).rejects.toThrow(
      /only some of the migrations.*missing: 1733000001700_login_throttle, 1733000001701_progress_per_attempt/,
    )
    // Nothing changed: the release before the split can still finish it.
    expect(await recorded(partial)).toEqual(MIGRATIONS_BEFORE_SPLIT.slice(0, 7))
  })
})
