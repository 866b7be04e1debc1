/**
 * Expiry (pg-boss `expireInSeconds`): a handler that runs too long is aborted before its attempt
 * expires, and the retry starts only after that attempt has stopped, so two attempts of one job
 * never run at once, even with a free slot in the same worker.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { enqueueJob } from '@/lib/server/enqueue'
import { setupJobWatch } from '@/test/job-watch'
import { setupTestDatabase, setupTestWorker } from '@/test/kit'
import { defineQueue } from '@/lib/jobs/queue'
import { type QueueOptions, QueueService } from './queue-service'

const Item = z.object({ cleanupMs: z.number().int().default(300) })
type Item = z.infer<typeof Item>

interface Run {
  jobId: string
  attempt: number
  startedAt: number
  abortedAt?: number
  reason?: unknown
  endedAt?: number
}
const runs: Run[] = []
let runningNow = 0
let mostAtOnce = 0

/**
 * Attempt 1 works until its signal aborts, then takes `cleanupMs` to wind down (a handler that
 * stops promptly but not instantly) and throws; later attempts finish at once.
 */
/** The expiring queue's contract under `name`, with `options`. */
const expiringContract = (name: string, options: QueueOptions) => defineQueue({ name, payload: Item, options })

abstract class ExpiringQueue extends QueueService<ReturnType<typeof expiringContract>> {
  // Two slots: the retry could start beside a still-running first attempt if nothing prevented it.
  readonly workerCount = 2

  async handleItem(item: Item) {
    const run: Run = { jobId: this.job.jobId, attempt: this.job.attempt, startedAt: performance.now() }
    runs.push(run)
    runningNow++
    mostAtOnce = Math.max(mostAtOnce, runningNow)
    try {
      if (this.job.attempt > 1) return { attempt: this.job.attempt }
      await new Promise<void>((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }))
      run.abortedAt = performance.now()
      run.reason = this.signal.reason
      await sleep(item.cleanupMs)
      this.checkCancelled()
      return { attempt: this.job.attempt }
    } finally {
      runningNow--
      run.endedAt = performance.now()
    }
  }
}

class ExpiringRetryQueue extends ExpiringQueue {
  readonly contract = expiringContract('expiring', {
    expireInSeconds: 2,
    retryLimit: 1,
    retryDelay: 0,
    retryBackoff: false,
    heartbeatSeconds: 10,
  })
}

class ExpiringFinalQueue extends ExpiringQueue {
  readonly contract = expiringContract('expiring-final', { expireInSeconds: 2, retryLimit: 0, heartbeatSeconds: 10 })
}

const db = setupTestDatabase()
const watch = setupJobWatch(db)
const worker = setupTestWorker(db, [ExpiringRetryQueue, ExpiringFinalQueue])
const owner = '99999999-9999-4999-8999-999999999999'

describe('a job that outlives its expireInSeconds', () => {
  it('is aborted before it expires, shows EXPIRED while waiting for its retry, and the retry never overlaps the first attempt', async () => {
    const job = await enqueueJob(db.pool, { queue: 'expiring', ownerId: owner, payload: {} })
    const done = await watch.next(job.id, (s) => s.state === 'completed' || s.state === 'failed', 15_000)
    expect(done.snapshot).toMatchObject({ state: 'completed', attempt: 2, maxAttempts: 2, result: { attempt: 2 } })

    const [first, second, ...more] = runs.filter((r) => r.jobId === job.id)
    expect(more).toEqual([])
    expect(first!.attempt).toBe(1)
    expect(second!.attempt).toBe(2)
    expect(first!.reason).toBe('expired')
    const abortedAfter = first!.abortedAt! - first!.startedAt
    console.log(
      `[expiry] attempt 1 aborted ${abortedAfter.toFixed(0)} ms after it started (expireInSeconds 2); attempt 2 started ${(second!.startedAt - first!.endedAt!).toFixed(0)} ms after attempt 1 ended`,
    )
    // Before pg-boss would expire it (2 s), so the handler stops before anyone may retry it.
    expect(abortedAfter).toBeLessThan(2_000)
    // The two attempts never ran at once, though a second slot was free all along.
    expect(second!.startedAt).toBeGreaterThanOrEqual(first!.endedAt!)
    expect(mostAtOnce).toBe(1)

    // Between the attempts the owner saw why: queued for a retry, expired.
    const between = watch
      .seen(job.id)
      .map((s) => s.snapshot)
      .find((s) => s.state === 'queued' && s.attempt === 1)
    expect(between).toMatchObject({
      error: { code: 'EXPIRED', message: expect.stringMatching(/longer than its time limit/) },
      retryAt: expect.any(String),
    })
    expect((await worker.boss.getJobById('expiring', job.id))?.state).toBe('completed')
  })

  it('fails as EXPIRED when no retries are left', async () => {
    const job = await enqueueJob(db.pool, { queue: 'expiring-final', ownerId: owner, payload: { cleanupMs: 0 } })
    const done = await watch.next(job.id, (s) => s.state === 'completed' || s.state === 'failed', 15_000)
    expect(done.snapshot).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { code: 'EXPIRED' },
      retryAt: null,
      settledAt: expect.any(String),
    })
    expect((await worker.boss.getJobById('expiring-final', job.id))?.state).toBe('failed')
  })
})
