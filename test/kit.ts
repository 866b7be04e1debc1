/**
 * The test kit for integration tests against a real PostgreSQL (vitest, `*.int.test.ts`):
 * - `createTestDatabase()`: a database of your own per test file, migrated and seeded;
 * - `startTestWorker(db, [YourQueue])`: the real worker running your queues in-process;
 * - `waitForJob(db.url, jobId, 'completed')`: resolves when the job gets there, through
 *   LISTEN/NOTIFY, never by sleeping.
 * See README "Testing your queues".
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { JobSnapshot, type JobState } from '@/lib/jobs/job'
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
  return startWorker({
    databaseUrl: db.url,
    queues,
    secret: TEST_SECRET,
    log: createLogger('test-worker'),
    realtimePort: null,
    origins: [],
    ...options,
  })
}
