/**
 * PostgreSQL access shared by both tiers. Functions that run SQL take a `Queryable` so the
 * caller chooses the pool, a transaction client, or a test database.
 */
import pg from 'pg'
import { env } from './env'

/** Anything that runs a parameterised query: a `pg.Pool`, a `pg.PoolClient` or a `pg.Client`. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

// bigint (int8) and numeric arrive as strings by default; our bigints (seq, population) fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

/**
 * Creates a pool. `max` defaults to 10 connections. Errors on idle clients (a restarted server)
 * are logged, not thrown: the pool replaces the client on next use.
 */
export function createPool(
  connectionString: string,
  options: { max?: number; applicationName?: string } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'next-background-jobs',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  })
  pool.on('error', (err) => console.warn(`[db] idle client error: ${err.message}`))
  // The pool stops listening for errors on a client while it is checked out. An error then, with no
  // query running (PostgreSQL restarting under a held LISTEN connection, as socket.io's postgres
  // adapter holds one), would be an unhandled 'error' event and end the process. Log it instead:
  // the holder's next query fails, and the pool discards the client when it is released.
  pool.on('connect', (client) => client.on('error', (err) => console.warn(`[db] connection error: ${err.message}`)))
  return pool
}

const globalForPool = globalThis as unknown as { __nbjWebPool?: pg.Pool }

/** The web tier's pool (5 connections), kept on globalThis so dev hot reloads do not leak pools. */
export function webPool(): pg.Pool {
  globalForPool.__nbjWebPool ??= createPool(env().DATABASE_URL, { max: 5, applicationName: 'nbj-web' })
  return globalForPool.__nbjWebPool
}

/**
 * Runs `fn` inside a transaction on a client from `pool`: COMMIT when it resolves,
 * ROLLBACK (and rethrow) when it throws.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let failure: unknown
  try {
    await client.query('BEGIN')
    const value = await fn(client)
    await client.query('COMMIT')
    return value
  } catch (err) {
    failure = err
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    // A connection that failed must not go back to the pool for the next caller.
    client.release(isDatabaseUnavailable(failure) ? (failure as Error) : undefined)
  }
}

/** SQLSTATE classes and node errors that mean "the database is not reachable right now". */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null
  if (!e) return false
  if (
    typeof e.code === 'string' &&
    (/^(08|57P0)/.test(e.code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'].includes(e.code))
  )
    return true
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(e.message ?? '')
}
