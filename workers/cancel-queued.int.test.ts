import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { enqueueJob } from '@/lib/server/enqueue'
import { findJob, requestCancel } from '@/lib/server/job-store'
import { setupTestDatabase, setupTestWorker, waitForJob } from '@/test/kit'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService } from './queue-service'

/**
 * One job at a time, so a job enqueued behind a held one is certainly still queued.
 * `hold` keeps the handler running until the test opens that gate.
 */
const Item = z.object({
  hold: z.string().optional(),
  mode: z.enum(['complete', 'fail', 'wait-cancel']).default('complete'),
})
type Item = z.infer<typeof Item>

const started: string[] = []
const gates = new Map<string, () => void>()

const singleQueue = defineQueue({ name: 'single', payload: Item, options: { retryLimit: 0, heartbeatSeconds: 10 } })

class SingleQueue extends QueueService<typeof singleQueue> {
  readonly contract = singleQueue
  readonly workerCount = 1

  async handleItem(item: Item) {
    started.push(this.job.jobId)
    if (item.hold) await new Promise<void>((resolve) => gates.set(item.hold!, resolve))
    if (item.mode === 'fail') this.failJob({ error: 'Nothing to do.' })
    while (item.mode === 'wait-cancel') {
      this.checkCancelled()
      await new Promise((r) => setTimeout(r, 20))
    }
    return { ok: true as const }
  }
}

const db = setupTestDatabase()
const worker = setupTestWorker(db, [SingleQueue])
const owner = '33333333-3333-4333-8333-333333333333'
const stranger = '44444444-4444-4444-8444-444444444444'

function enqueue(item: Partial<Item>, ownerId = owner) {
  return enqueueJob(db.pool, { queue: 'single', ownerId, payload: item })
}

/** Enqueues a job that holds the only slot until the returned `release()` is called. */
async function occupyTheWorker(name: string) {
  const job = await enqueue({ hold: name })
  await waitForJob(db.url, job.id, 'active')
  await expect.poll(() => gates.has(name)).toBe(true)
  return { job, release: () => gates.get(name)!() }
}

describe('cancelling a job', () => {
  it('a job cancelled while queued never starts, and the jobs behind it still run', async () => {
    const blocker = await occupyTheWorker('first')
    const queued = await enqueue({})
    expect(queued.state).toBe('queued')

    const outcome = await requestCancel(db.pool, queued.id, owner)
    expect(outcome).toMatchObject({
      kind: 'cancelled',
      job: { id: queued.id, state: 'cancelled', cancelRequested: true },
    })
    expect(outcome.kind === 'cancelled' && outcome.job.settledAt).toBeTruthy()

    // The worker frees its slot and a later job runs: the cancelled one was skipped on the way.
    blocker.release()
    const after = await enqueue({})
    await waitForJob(db.url, after.id, 'completed')
    await waitForJob(db.url, blocker.job.id, 'completed')

    const cancelled = await findJob(db.pool, queued.id)
    expect(cancelled).toMatchObject({ state: 'cancelled', attempt: 0, startedAt: null, progress: null, result: null })
    expect(started).not.toContain(queued.id)
    expect(started).toEqual(expect.arrayContaining([blocker.job.id, after.id]))
    // pg-boss fetched it before the later job (oldest first) and recorded it as cancelled, not left it to expire.
    expect((await worker.boss.getJobById('single', queued.id))?.state).toBe('cancelled')
  })

  it('refuses to cancel a job that has settled', async () => {
    const completed = await enqueue({})
    const failed = await enqueue({ mode: 'fail' })
    await waitForJob(db.url, completed.id, 'completed')
    await waitForJob(db.url, failed.id, 'failed')

    for (const job of [completed, failed]) {
      const before = await findJob(db.pool, job.id)
      const outcome = await requestCancel(db.pool, job.id, owner)
      expect(outcome).toMatchObject({
        kind: 'not_cancellable',
        job: { id: job.id, state: before!.state, cancelRequested: false },
      })
      expect(await findJob(db.pool, job.id)).toEqual(before)
    }
  })

  it('refuses a second cancel of a cancelled job, or of a running job already being cancelled', async () => {
    const blocker = await occupyTheWorker('second')
    const queued = await enqueue({})
    expect((await requestCancel(db.pool, queued.id, owner)).kind).toBe('cancelled')
    expect(await requestCancel(db.pool, queued.id, owner)).toMatchObject({
      kind: 'not_cancellable',
      job: { state: 'cancelled' },
    })
    blocker.release()
    await waitForJob(db.url, blocker.job.id, 'completed')

    const running = await enqueue({ mode: 'wait-cancel' })
    await waitForJob(db.url, running.id, 'active')
    expect(await requestCancel(db.pool, running.id, owner)).toMatchObject({
      kind: 'cancelling',
      job: { state: 'active', cancelRequested: true },
    })
    const second = await requestCancel(db.pool, running.id, owner)
    // Either the handler is still stopping or it has stopped: both refuse another cancel.
    expect(second.kind).toBe('not_cancellable')
    expect((await waitForJob(db.url, running.id, ['cancelled', 'completed', 'failed'], 5_000)).state).toBe('cancelled')
  })

  it('answers not_found to someone else cancelling my job, and leaves the job alone', async () => {
    const blocker = await occupyTheWorker('third')
    const queued = await enqueue({})
    const runningBefore = await findJob(db.pool, blocker.job.id)
    const queuedBefore = await findJob(db.pool, queued.id)

    expect(await requestCancel(db.pool, blocker.job.id, stranger)).toEqual({ kind: 'not_found' })
    expect(await requestCancel(db.pool, queued.id, stranger)).toEqual({ kind: 'not_found' })
    // Not a single write: the seq of each job is unchanged.
    expect(await findJob(db.pool, blocker.job.id)).toEqual(runningBefore)
    expect(await findJob(db.pool, queued.id)).toEqual(queuedBefore)

    blocker.release()
    expect((await waitForJob(db.url, queued.id, ['completed', 'cancelled', 'failed'])).state).toBe('completed')
    expect((await findJob(db.pool, blocker.job.id))?.state).toBe('completed')
  })

  it('answers not_found for a job that does not exist', async () => {
    expect(await requestCancel(db.pool, '55555555-5555-4555-8555-555555555555', owner)).toEqual({ kind: 'not_found' })
  })
})
