/**
 * Nothing missed while the worker's listener reconnects: NOTIFYs sent while a LISTEN connection
 * is down are lost for good, so changes committed in that gap (a cancel from the web tier, a job
 * started by another worker) reach open tabs only because the worker catches up from the last
 * `seq` it saw when its listener is back. The gap is made exact: new connections to the test's
 * database are refused, the listener's backends are terminated, changes are committed on a
 * connection that stays open, then connections are allowed again.
 */
import type pg from 'pg'
import { type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JobSnapshot } from '@/lib/jobs/job'
import { newer } from '@/lib/client/job-cache'
import { createPool } from '@/lib/server/db'
import { enqueueJob, producerFor } from '@/lib/server/enqueue'
import { findJob, requestCancel } from '@/lib/server/job-store'
import { signRealtimeToken } from '@/lib/server/tokens'
import { PGBOSS_SCHEMA } from '@/lib/server/pgboss'
import { PgBoss } from 'pg-boss'
import { connectJobSocket, setupTestDatabase, setupTestWorker, TEST_SECRET } from './kit'

const owner = '88888888-8888-4888-8888-888888888888'

const received: JobSnapshot[] = []
const arrivals = new Set<() => void>()
const logged: string[] = []
const record = (line: string) => {
  logged.push(line)
  for (const arrived of arrivals) arrived()
}
// Two connections, opened before the gap: they keep working while new connections are refused
// (an enqueue holds one for its transaction while pg-boss may read its queue on the other).
const db = setupTestDatabase({ poolMax: 2 })
const worker = setupTestWorker(db, [], { realtimePort: 0, log: { info: record, warn: record, error: record } })
/** A connection to the server's `postgres` database: a database cannot refuse connections to itself. */
let admin: pg.Pool
let socket: Socket
let database: string

beforeAll(async () => {
  database = new URL(db.url).pathname.slice(1)
  const adminUrl = new URL(db.url)
  adminUrl.pathname = '/postgres'
  admin = createPool(adminUrl.toString(), { max: 1 })
  // A queue no worker here runs, so its jobs stay queued unless someone cancels them.
  const boss = new PgBoss({
    connectionString: db.url,
    schema: PGBOSS_SCHEMA,
    supervise: false,
    schedule: false,
    max: 1,
  })
  await boss.start()
  await boss.createQueue('gap')
  await boss.stop({ graceful: false, close: true })
  socket = await connectJobSocket(worker.realtime.port!, await signRealtimeToken(TEST_SECRET, owner), (raw) => {
    received.push(JobSnapshot.parse(raw))
    for (const arrived of arrivals) arrived()
  })
})

afterAll(async () => {
  await admin?.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined)
  await admin?.end()
  socket?.disconnect()
})

function eventually<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = find()
      if (found === undefined) return
      arrivals.delete(check)
      clearTimeout(timer)
      resolve(found)
    }
    const timer = setTimeout(() => {
      arrivals.delete(check)
      reject(new Error(`never saw ${what} within ${timeoutMs} ms`))
    }, timeoutMs)
    arrivals.add(check)
    check()
  })
}

/** The job as the tab shows it, by the client's rule. */
function shown(jobId: string): JobSnapshot | undefined {
  return received.filter((s) => s.id === jobId).reduce<JobSnapshot | undefined>((view, s) => newer(view, s), undefined)
}

describe("the worker's listener reconnects", () => {
  it(
    'a tab that stayed connected ends on the database state, including a cancel and a new job committed while the listener was down',
    { timeout: 90_000 },
    async () => {
      const cancelled = await enqueueJob(db.pool, { queue: 'gap', ownerId: owner, payload: {} })
      await eventually(() => shown(cancelled.id), 'the job queued', 10_000)
      await producerFor(db.pool)
      await Promise.all([db.pool.query('SELECT 1'), db.pool.query('SELECT 1')])

      await admin.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS false`)
      // The worker's LISTEN connection (pg-boss's listener on our job-change channel, the one channel
      // the worker listens on); waits until it is gone.
      const { rows } = await db.pool.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid, 10000) AS terminated FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'nbj-worker-boss'
            AND (query LIKE 'LISTEN %' OR query LIKE '%pg_listening_channels%')`,
      )
      expect(rows.length).toBe(1)
      expect(rows.every((r) => r.terminated)).toBe(true)
      await eventually(
        () => logged.find((l) => /pg-boss: .*(administrator command|connection ended|terminated)/i.test(l)),
        'the worker notice',
        10_000,
      )

      // In the gap, from the web tier: the owner cancels one job and starts another.
      expect((await requestCancel(db.pool, cancelled.id, owner)).kind).toBe('cancelled')
      const created = await enqueueJob(db.pool, { queue: 'gap', ownerId: owner, payload: {} })

      await admin.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`)
      // pg-boss reconnects with backoff (1 s, doubling) once connections are allowed again.
      await eventually(() => (shown(cancelled.id)?.state === 'cancelled' ? true : undefined), 'the cancel', 45_000)
      await eventually(() => (shown(created.id)?.state === 'queued' ? true : undefined), 'the new job', 45_000)
      for (const job of [cancelled, created])
        expect(shown(job.id)).toEqual(JobSnapshot.parse(await findJob(db.pool, job.id)))
      expect(logged.some((l) => /caught up on \d+ job change/.test(l))).toBe(true)
    },
  )
})
