/**
 * The test kit for integration tests against a real PostgreSQL (vitest, `*.int.test.ts`):
 * - `setupTestDatabase()`: a database of your own for this test file (migrated and seeded) and a
 *   pool on it, created before the file's tests and dropped after them;
 * - `setupTestWorker(db, [YourQueue])`: the real worker running your queues in-process for the file;
 * - `createTestDatabase()` and `startTestWorker(...)`: the same, by hand, for a test that needs
 *   its own lifetimes;
 * - `waitForJob(db.url, jobId, 'completed')`: resolves when the job gets there, through
 *   LISTEN/NOTIFY, never by sleeping.
 * See README "Testing your queues".
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { io as connectSocket, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import { afterAll, beforeAll, inject, vi } from 'vitest'
import { JOB_CHANGED_CHANNEL, JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import { JobSnapshot, type JobState } from '@/lib/jobs/job'
import { createPool } from '@/lib/server/db'
import { stopProducer } from '@/lib/server/enqueue'
import { createDatabase, dropDatabase, withDatabase } from '../scripts/database'
import { createLogger } from '../workers/logger'
import type { QueueClass } from '../workers/queue-service'
import { startWorker, type Worker, type WorkerOptions } from '../workers/worker'

export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

/** A new database cloned from the migrated, seeded template. Call `drop()` in afterAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('serverUrl')
  const name = `nbj_t_${randomBytes(5).toString('hex')}`
  // CREATE DATABASE ... TEMPLATE fails while another clone is being made; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await createDatabase(serverUrl, name, { template: inject('templateDatabase') })
      break
    } catch (err) {
      if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200))
    }
  }
  return { url: withDatabase(serverUrl, name), drop: () => dropDatabase(serverUrl, name) }
}

/**
 * Resolves with the job's snapshot once it is in one of `states`, listening to the job-change
 * channel; rejects after `timeoutMs` (default 30 s) naming the last state seen.
 */
export async function waitForJob(
  url: string,
  jobId: string,
  states: JobState | JobState[],
  timeoutMs = 30_000,
): Promise<JobSnapshot> {
  const wanted = Array.isArray(states) ? states : [states]
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  let last: JobSnapshot | null = null
  try {
    return await new Promise<JobSnapshot>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `job ${jobId} did not reach ${wanted.join('/')} within ${timeoutMs} ms (last state: ${last?.state ?? 'unknown'})`,
            ),
          ),
        timeoutMs,
      )
      const check = (snapshot: JobSnapshot) => {
        if (last && snapshot.seq < last.seq) return
        last = snapshot
        if (wanted.includes(snapshot.state)) {
          clearTimeout(timer)
          resolve(snapshot)
        }
      }
      const read = async () => {
        const { rows } = await client.query<{ snapshot: unknown }>(
          'SELECT app.job_snapshot(j) AS snapshot FROM app.jobs j WHERE id = $1',
          [jobId],
        )
        if (rows[0]) check(JobSnapshot.parse(rows[0].snapshot))
      }
      client.on('notification', (n) => {
        const payload = JSON.parse(n.payload ?? '{}') as { id?: string }
        if (payload.id === jobId) read().catch(reject)
      })
      // LISTEN first, then read: a change between the two is caught by one or the other.
      client.query(`LISTEN ${JOB_CHANGED_CHANNEL}`).then(read).catch(reject)
      // A slow re-read as well, so a timeout always reports the row's true last state (a lost
      // notification and a stuck job then read differently in the error).
      const reread = setInterval(() => void read().catch(() => undefined), 2_000)
      const stop = () => clearInterval(reread)
      void new Promise<void>((done) => client.once('end', done)).then(stop)
    })
  } finally {
    await client.end()
  }
}

/** The signing secret test workers use (tokens for their realtime servers are signed with it). */
export const TEST_SECRET = 'test-secret-test-secret-test-secret!'

/**
 * Starts the real worker (migrations already applied by the template; pg-boss, runners,
 * realtime) on `db` with `queues`, exactly as production does, in this process. Realtime is
 * headless unless `realtimePort` is given (0 picks a free port). Stop it in afterAll.
 */
export async function startTestWorker(
  db: TestDatabase,
  queues: QueueClass[],
  options: Partial<WorkerOptions> = {},
): Promise<Worker> {
  return startWorker({ ...testWorkerOptions(db, queues), ...options })
}

function testWorkerOptions(db: TestDatabase, queues: QueueClass[]): WorkerOptions {
  return {
    databaseUrl: db.url,
    queues,
    secret: TEST_SECRET,
    log: createLogger('test-worker'),
    realtimePort: null,
    origins: [],
  }
}

/** What `setupTestDatabase` gives a test file. Its members throw if read before the file's `beforeAll`. */
export interface FileDatabase extends TestDatabase {
  /** A pool on the database (`createPool`), made on first use; its producer is stopped and it is ended after the file. */
  readonly pool: pg.Pool
  /** Runs `stop` after the file's tests, before the database is dropped; the last one added runs first. */
  onTeardown(stop: () => unknown): void
}

/**
 * Gives this test file a database of its own: cloned from the migrated, seeded template in
 * `beforeAll`, dropped in `afterAll` after everything added with `onTeardown` (a worker from
 * `setupTestWorker` first) and the pool have stopped. Call it once, at the top level of the file.
 *
 * @param options.poolMax `max` of `pool`. Default 3.
 */
export function setupTestDatabase(options: { poolMax?: number } = {}): FileDatabase {
  let database: TestDatabase | undefined
  let pool: pg.Pool | undefined
  const teardowns: (() => unknown)[] = []
  const current = () => {
    if (!database) throw new Error('setupTestDatabase: read before beforeAll created the database')
    return database
  }
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(async () => {
    for (const stop of teardowns.splice(0).reverse()) await stop()
    if (pool) {
      await stopProducer(pool)
      await pool.end()
    }
    await database?.drop()
  })
  return {
    get url() {
      return current().url
    },
    get pool() {
      pool ??= createPool(current().url, { max: options.poolMax ?? 3 })
      return pool
    },
    drop: () => current().drop(),
    onTeardown: (stop) => void teardowns.push(stop),
  }
}

/**
 * Runs the real worker with `queues` on `db` for this test file (see `startTestWorker`): started
 * in `beforeAll`, after the database; stopped after the file's tests, before the database is
 * dropped. Returns the worker; its members throw if read before the file's `beforeAll`.
 *
 * `queues` may be a function that imports them: the worker is then imported in `beforeAll` as
 * well, so after `setupWebTier` it shares the web tier's fresh modules (and the env they read).
 *
 * @param options.stopGraceMs The `graceMs` of its stop after the file. Default 1000.
 */
export function setupTestWorker(
  db: FileDatabase,
  queues: QueueClass[] | (() => Promise<QueueClass[]>),
  options: Partial<WorkerOptions> & { stopGraceMs?: number } = {},
): Worker {
  const { stopGraceMs = 1_000, ...workerOptions } = options
  let worker: Worker | undefined
  const current = () => {
    if (!worker) throw new Error('setupTestWorker: read before beforeAll started the worker')
    return worker
  }
  beforeAll(async () => {
    if (Array.isArray(queues)) worker = await startTestWorker(db, queues, workerOptions)
    else {
      const { startWorker: startFresh } = await import('../workers/worker')
      worker = await startFresh({ ...testWorkerOptions(db, await queues()), ...workerOptions })
    }
    db.onTeardown(() => worker?.stop(stopGraceMs))
  })
  return {
    get boss() {
      return current().boss
    },
    get pool() {
      return current().pool
    },
    get realtime() {
      return current().realtime
    },
    get runners() {
      return current().runners
    },
    stop: (graceMs) => current().stop(graceMs),
  }
}

/** The web tier's memoised pool (`webPool()` in lib/server/db.ts keeps it on `globalThis`). */
const webPoolHolder = globalThis as { __nbjWebPool?: pg.Pool }

/**
 * Loads the web tier afresh for this test file, as a web process that just started: in
 * `beforeAll` (after the database's) `DATABASE_URL` is the file's database and `env` is stubbed,
 * the memoised web pool is forgotten and the module registry reset, so what the file imports
 * afterwards reads them. After the file (before the database is dropped), the web pool and its
 * producer stop and every stubbed variable is restored.
 */
export function setupWebTier(db: FileDatabase, env: Record<string, string | undefined> = {}): void {
  beforeAll(() => {
    // Before the first webEnv()/workerEnv() call, which memoises them.
    vi.stubEnv('DATABASE_URL', db.url)
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
    delete webPoolHolder.__nbjWebPool
    vi.resetModules()
    db.onTeardown(async () => {
      await closeWebTier()
      vi.unstubAllEnvs()
    })
  })
}

/** Stops the web tier's pool and its producer, if it made one, and forgets it. */
export async function closeWebTier(): Promise<void> {
  const pool = webPoolHolder.__nbjWebPool
  if (!pool) return
  // The producer lives in the module instance the web tier loaded, not in this file's.
  const { stopProducer: stopWebProducer } = await import('@/lib/server/enqueue')
  await stopWebProducer(pool)
  await pool.end()
  delete webPoolHolder.__nbjWebPool
}

/**
 * Connects a socket.io client over websocket (a new connection, never shared) to the realtime
 * server on `port` of this host with the realtime `token`, and resolves once it is connected;
 * rejects on a connect error. Every job-change event it receives is passed, unparsed, to
 * `onJobChanged`, subscribed before the connection is made so none is missed.
 */
export async function connectJobSocket(
  port: number,
  token: string,
  onJobChanged: (raw: unknown) => void,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket> {
  const socket = connectSocket(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    auth: { token },
    ...options,
  })
  socket.on(JOB_CHANGED_EVENT, onJobChanged)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  return socket
}
