/**
 * Graceful stop: SIGTERM to a worker process in the middle of jobs, as a deploy or `docker stop`
 * does. The production entry (workers/main.ts, 10 s grace) runs real exports slowed by
 * EXPORT_ROWS_PER_SECOND; the fault-queue entry (test/worker-entry.ts) adds a handler that
 * ignores its signal, with a 1 s grace.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { EXPORTS_QUEUE } from '@/lib/jobs/exports'
import { enqueueJob } from '@/lib/server/enqueue'
import { bossJobState } from '@/lib/server/pgboss'
import { findJob } from '@/lib/server/job-store'
import { type FaultItem } from './fault-queues'
import { setupJobWatch } from './job-watch'
import { setupTestDatabase } from './kit'
import { type Child, freePort, startProcess, stopAll, stopProcess } from './processes'

const owner = '77777777-7777-4777-8777-777777777777'
const ALL_CITIES = 135_233
/** What a clean shutdown must never print. */
const SHUTDOWN_ERRORS =
  /Cannot use a db.pool after calling end|Unhandled|uncaught|could not be settled|could not be released|stop failed|ERR_/i

const db = setupTestDatabase()
const watch = setupJobWatch(db)

afterAll(async () => {
  await stopAll()
})

async function startMainWorker(label: string, env: Record<string, string> = {}): Promise<Child> {
  const child = startProcess(
    'workers/main.ts',
    {
      DATABASE_URL: db.url,
      SESSION_SECRET: 'graceful-stop-secret-graceful-stop-secret',
      REALTIME_PORT: String(await freePort()),
      APP_ORIGIN: 'http://127.0.0.1:9',
      ...env,
    },
    label,
  )
  await child.waitForLine(/worker running queues/, 60_000)
  return child
}

function exportCities(query: Record<string, unknown>) {
  return enqueueJob(db.pool, { queue: EXPORTS_QUEUE, ownerId: owner, payload: query })
}

async function bossState(queue: string, id: string): Promise<string | undefined> {
  return (await bossJobState(db.pool, queue, id)) ?? undefined
}

/** stderr lines other than the one expected per interrupted attempt, for the report on failure. */
function unexpectedStderr(child: Child): string[] {
  return child
    .stderr()
    .split('\n')
    .filter((l) => l.trim() && !/attempt \d+ \[ref [0-9a-f]{8}\]: interrupted by shutdown/.test(l))
}

describe('SIGTERM to a worker in the middle of jobs', () => {
  it(
    'stops fetching at once, lets a short export finish, puts a long one back in the queue as interrupted, and exits 0 cleanly',
    { timeout: 120_000 },
    async () => {
      // 5,000 rows a second: every city takes 27 s (longer than the 10 s grace), the United States' 16,677 about 3.3 s.
      const worker = await startMainWorker('worker-1', { EXPORT_ROWS_PER_SECOND: '5000' })
      const long = await exportCities({})
      const short = await exportCities({ country: 'US' })
      await watch.next(long.id, (s) => s.state === 'active' && (s.progress?.current ?? 0) > 0)
      await watch.next(short.id, (s) => s.state === 'active')

      const signalledAt = Date.now()
      worker.process.kill('SIGTERM')
      await worker.waitForLine(/SIGTERM: stopping/)
      // Queued after the signal: the slot the short export frees must not be used for it.
      const late = await exportCities({ country: 'IS' })

      const shortDone = await watch.next(short.id, (s) => s.attempt >= 1 && s.state !== 'active', 15_000)
      expect(shortDone.snapshot).toMatchObject({ state: 'completed', attempt: 1, result: { rows: 16_677 } })
      const interrupted = await watch.next(long.id, (s) => s.attempt >= 1 && s.state !== 'active', 20_000)
      const exit = await worker.exited
      const stoppedAfterMs = Date.now() - signalledAt
      console.log(
        `[graceful] short export settled ${shortDone.at - signalledAt} ms after SIGTERM, long one released ${interrupted.at - signalledAt} ms after, process exited after ${stoppedAfterMs} ms`,
      )

      expect(exit).toEqual({ code: 0, signal: null })
      // The short export finished inside the grace; the long one got the whole grace, then was released.
      expect(shortDone.at).toBeLessThan(interrupted.at)
      expect(interrupted.at - signalledAt).toBeGreaterThanOrEqual(9_500)
      expect(stoppedAfterMs).toBeLessThan(20_000)
      expect(interrupted.snapshot).toMatchObject({
        state: 'queued',
        attempt: 1,
        error: { code: 'INTERRUPTED', message: expect.stringMatching(/shut down/) },
        retryAt: expect.any(String),
        settledAt: null,
      })
      expect(interrupted.snapshot.progress!.current).toBeGreaterThan(0)
      expect(interrupted.snapshot.progress!.current).toBeLessThan(ALL_CITIES)
      expect(await bossState(EXPORTS_QUEUE, long.id)).toBe('retry')
      // No partial file left behind for the interrupted attempt.
      const parts = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM app.job_file_parts WHERE job_id = $1',
        [long.id],
      )
      expect(parts.rows[0]!.n).toBe(0)

      // Never started by the stopping worker.
      expect(await findJob(db.pool, late.id)).toMatchObject({ state: 'queued', attempt: 0, startedAt: null })
      expect(await bossState(EXPORTS_QUEUE, late.id)).toBe('created')
      expect(worker.stdout() + worker.stderr()).not.toContain(late.id)

      expect(worker.stderr()).not.toMatch(SHUTDOWN_ERRORS)
      expect(worker.stdout()).not.toMatch(SHUTDOWN_ERRORS)
      expect(unexpectedStderr(worker)).toEqual([])

      // The next worker (no rate cap) finishes both: the interrupted one as attempt 2.
      const next = await startMainWorker('worker-2')
      const [retried, lateDone] = await Promise.all([
        watch.next(long.id, (s) => s.state === 'completed' || s.state === 'failed', 30_000),
        watch.next(late.id, (s) => s.state === 'completed' || s.state === 'failed', 30_000),
      ])
      expect(retried.snapshot).toMatchObject({
        state: 'completed',
        attempt: 2,
        error: null,
        result: { rows: ALL_CITIES },
      })
      expect(lateDone.snapshot).toMatchObject({ state: 'completed', attempt: 1 })
      const nextExit = await stopProcess(next)
      expect(nextExit).toEqual({ code: 0, signal: null })
      expect(next.stderr()).not.toMatch(SHUTDOWN_ERRORS)
    },
  )

  it(
    'releases a job whose handler ignores its abort signal into retry once the grace and the abort wait have passed, and still exits 0',
    { timeout: 60_000 },
    async () => {
      const worker = startProcess('test/worker-entry.ts', { DATABASE_URL: db.url, GRACE_MS: '1000' }, 'fault-worker')
      await worker.waitForLine(/worker running queues/, 60_000)
      const item: Partial<FaultItem> = { workMs: 60_000, ignoreSignal: true }
      const stubborn = await enqueueJob(db.pool, { queue: 'fault-retry', ownerId: owner, payload: item })
      await worker.waitForLine(new RegExp(`started ${stubborn.id} attempt 1`))
      await watch.next(stubborn.id, (s) => s.state === 'active')

      const signalledAt = Date.now()
      worker.process.kill('SIGTERM')
      const released = await watch.next(stubborn.id, (s) => s.attempt >= 1 && s.state !== 'active', 15_000)
      const exit = await worker.exited
      console.log(
        `[graceful] ignoring handler released ${released.at - signalledAt} ms after SIGTERM; exit after ${Date.now() - signalledAt} ms`,
      )

      expect(exit).toEqual({ code: 0, signal: null })
      // 1 s grace, then the runner's 2 s wait for the aborted handler, then the release.
      expect(released.at - signalledAt).toBeGreaterThanOrEqual(2_500)
      expect(released.at - signalledAt).toBeLessThan(8_000)
      expect(released.snapshot).toMatchObject({
        state: 'queued',
        attempt: 1,
        error: { code: 'INTERRUPTED' },
        retryAt: expect.any(String),
      })
      expect(await bossState('fault-retry', stubborn.id)).toBe('retry')
      expect(worker.stdout()).not.toMatch(new RegExp(`finished ${stubborn.id}`))
      expect(worker.stderr()).not.toMatch(SHUTDOWN_ERRORS)
      expect(unexpectedStderr(worker)).toEqual([])
    },
  )
})
