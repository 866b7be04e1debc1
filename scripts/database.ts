/**
 * Finds the PostgreSQL to use and prepares one database on it, for the dev, test and bench scripts:
 * DATABASE_URL when set, otherwise an embedded server. Each purpose has its own embedded server
 * (port and data folder), so `npm test` never stops the server `npm run dev` is using.
 */
import pg from 'pg'
import { createPool } from '../lib/server/db'
import { toolingEnv } from '../lib/server/env'
import { createLogger } from '../workers/logger'
import { migrateAll } from '../workers/migrate'
import { seedCities } from '../workers/seed'
import { startEmbeddedPostgres } from './embedded-postgres'

const log = createLogger('db')

/** Connection string of `database` on the same server as `url`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Creates `database` if missing (dropping it first when `fresh`). */
export async function createDatabase(
  serverUrl: string,
  database: string,
  options: { fresh?: boolean; template?: string } = {},
): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') })
  await admin.connect()
  try {
    const ident = pg.escapeIdentifier(database)
    if (options.fresh) await admin.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`)
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (!rowCount) {
      const template = options.template ? ` TEMPLATE ${pg.escapeIdentifier(options.template)}` : ''
      await admin.query(`CREATE DATABASE ${ident}${template} ENCODING 'UTF8'`)
    }
  } finally {
    await admin.end()
  }
}

/** Drops `database` if it exists, disconnecting its sessions. */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`)
  } finally {
    await admin.end()
  }
}

/** Applies migrations (ours and pg-boss's) and loads the cities, both idempotent. */
export async function setUpDatabase(url: string): Promise<void> {
  await migrateAll(url, log)
  const pool = createPool(url, { max: 2, applicationName: 'nbj-setup' })
  try {
    const started = Date.now()
    const inserted = await seedCities(pool)
    if (inserted)
      log.info(`seeded ${inserted.toLocaleString('en-US')} cities in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await pool.end()
  }
}

/** Who needs the database: each gets its own embedded server. */
export type Purpose = 'dev' | 'test' | 'bench'

/** Embedded servers by purpose. EMBEDDED_PG_PORT and EMBEDDED_PG_DIR override the port and data folder. */
const EMBEDDED: Record<Purpose, { port: number; dataDir: string }> = {
  dev: { port: 54329, dataDir: '.data/postgres' },
  test: { port: 54339, dataDir: '.data/postgres-test' },
  bench: { port: 54349, dataDir: '.data/postgres-bench' },
}

export interface PreparedDatabase {
  /** Connection string of the prepared database. */
  url: string
  /** Connection string of any database on the same server: `serverUrl` with another path. */
  serverUrl: string
  /** Stops the embedded server if this call started it. */
  stop(): Promise<void>
}

/**
 * Returns a ready database named `database` (created if missing; dropped first when `fresh`) on the
 * DATABASE_URL server or the embedded one, migrated and seeded when `setup` is true. With
 * `useGivenDatabase`, a DATABASE_URL is used as it is (its own database), as `npm run dev` does.
 */
export async function prepareDatabase(options: {
  database: string
  purpose: Purpose
  fresh?: boolean
  setup?: boolean
  useGivenDatabase?: boolean
}): Promise<PreparedDatabase> {
  const env = toolingEnv()
  let serverUrl = env.DATABASE_URL
  let stop = async () => undefined as void
  if (!serverUrl) {
    const embedded = EMBEDDED[options.purpose]
    const port = env.EMBEDDED_PG_PORT ?? embedded.port
    const dataDir = env.EMBEDDED_PG_DIR ?? embedded.dataDir
    const server = await startEmbeddedPostgres({ dataDir, port, log: log.info })
    serverUrl = server.url('postgres')
    stop = server.stop
  }
  try {
    const given = options.useGivenDatabase && env.DATABASE_URL
    const url = given ? serverUrl : withDatabase(serverUrl, options.database)
    if (!given) await createDatabase(serverUrl, options.database, { fresh: options.fresh })
    if (options.setup) await setUpDatabase(url)
    return { url, serverUrl, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
