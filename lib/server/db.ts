/**
 * PostgreSQL access shared by both tiers. Functions that run SQL take a `Queryable` so the
 * caller chooses the pool, a transaction client, or a test database.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import pg from 'pg'
import { webEnv } from './env'

/** Anything that runs a parameterised query: a `pg.Pool`, a `pg.PoolClient` or a `pg.Client`. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

/** A Queryable that can also run named statements (`queryPrepared`): a real pool, pool client or client. */
export type PreparingQueryable = pg.Pool | pg.PoolClient | pg.Client

/**
 * Runs `text` as the named prepared statement `name`: PostgreSQL parses and plans it once per
 * connection instead of on every call (about 0.3 of the 0.75 ms the runner's mark-running UPDATE
 * took as an unnamed one, measured on a local server). For the worker's per-batch statements only: a
 * named statement lives in its connection's session, which the worker needs anyway (it LISTENs),
 * but a transaction-mode pooler (PgBouncer before 1.21) would hand it to another session.
 * `name` must be unique per `text` in the process.
 */
export function queryPrepared<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: PreparingQueryable,
  name: string,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  return db.query<R>({ name, text, values })
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

/**
 * Options of the web tier's pool, exported so a test can build a pool exactly like it.
 *
 * Sizing: what holds a web connection, and for how long.
 * - A Server Action: at most ONE connection, for its transaction (lock, count, insert, pg-boss
 *   send all run on it; see `transactionScope`). It never waits for a second one, so no number of
 *   concurrent actions can deadlock the pool; a burst only queues for up to 5 s
 *   (`connectionTimeoutMillis`), then answers UNAVAILABLE.
 * - A page render: one or two at once (/emails reads jobs and messages in parallel), milliseconds.
 * - A download: one for as long as the file streams to the browser.
 * - The pg-boss producer: one, briefly, to refresh its queue list (every 60 s).
 * `max` 10 (`WEB_POOL_MAX`) leaves room for a few slow downloads beside a burst of actions. Budget
 * the server's `max_connections` (100 by default) as: web processes x WEB_POOL_MAX + workers x
 * (10 + the sum of their queues' workerCount) + your own tools. On serverless hosts with many
 * instances, lower WEB_POOL_MAX (2 to 3) or put a pooler in front of the web tier.
 */
export function webPoolOptions(): { max: number; applicationName: string } {
  return { max: webEnv().WEB_POOL_MAX, applicationName: 'nbj-web' }
}

const globalForPool = globalThis as unknown as { __nbjWebPool?: pg.Pool }

/** The web tier's pool (`webPoolOptions`), kept on globalThis so dev hot reloads do not leak pools. */
export function webPool(): pg.Pool {
  globalForPool.__nbjWebPool ??= createPool(webEnv().DATABASE_URL, webPoolOptions())
  return globalForPool.__nbjWebPool
}

interface TransactionScope {
  pool: Queryable
  client: Queryable
  open: boolean
}

/**
 * The transaction (or lock-holding connection) the current async call chain runs in, per pool.
 * Code that holds a pooled connection must never wait for a second one from the same pool: with
 * every connection held by such callers, each waits for the others until the pool times out
 * (10 concurrent calls starve a pool of 10). `scopedQuery` sends a query issued while a scope is
 * open (pg-boss reading its queue list in the middle of `send`, say) to the scope's connection.
 */
const transactionScope = new AsyncLocalStorage<TransactionScope>()

/**
 * Runs `fn` with `client` (a connection of `pool` in a transaction, or holding a lock) as the
 * connection every `scopedQuery(pool, ...)` inside it uses. The scope closes when `fn` settles:
 * timers started inside it (pg-boss's queue refresh) then go back to the pool.
 */
export async function inTransactionScope<T>(pool: Queryable, client: Queryable, fn: () => Promise<T>): Promise<T> {
  const scope: TransactionScope = { pool, client, open: true }
  try {
    return await transactionScope.run(scope, fn)
  } finally {
    scope.open = false
  }
}

/** Runs a query on the open transaction scope's connection of `pool` if there is one, else on `pool`. */
export function scopedQuery(
  pool: Queryable,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<pg.QueryResultRow>> {
  const scope = transactionScope.getStore()
  return (scope?.open && scope.pool === pool ? scope.client : pool).query(text, values)
}

/**
 * Runs `fn` inside a transaction on a client from `pool`: COMMIT when it resolves,
 * ROLLBACK (and rethrow) when it throws. Inside `fn`, `scopedQuery(pool, ...)` (and so the
 * pg-boss producer of `pool`) uses this client: the transaction never waits for a second connection.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let failure: unknown
  try {
    await client.query('BEGIN')
    const value = await inTransactionScope(pool, client, () => fn(client))
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

/**
 * Runs a page's reads: `{ available: false }` when the database is unreachable, so the page shows
 * its notice (app/_components/database-notice.tsx) instead of an error page. Rethrows anything else.
 */
export async function readForPage<T>(
  read: () => Promise<T>,
): Promise<{ available: true; value: T } | { available: false }> {
  try {
    return { available: true, value: await read() }
  } catch (err) {
    if (isDatabaseUnavailable(err)) return { available: false }
    throw err
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
