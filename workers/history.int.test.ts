import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFERRED_QUEUE, sendWelcomeEmail } from '@/lib/jobs/deferred'
import { EXPORTS_QUEUE } from '@/lib/jobs/exports'
import { createPool, withTransaction } from '@/lib/server/db'
import { defer } from '@/lib/server/defer'
import { enqueueJob, producerFor, stopProducer } from '@/lib/server/enqueue'
import { getTimeline, listJobHistory } from '@/lib/server/history'
import { requestCancel } from '@/lib/server/job-store'
import { backdateHeartbeat, bossJobState } from '@/lib/server/pgboss'
import { setupTestDatabase, setupTestWorker, waitForJob } from '@/test/kit'
import { queueCounts, retryJobAsOperator, stuckJobs } from '@/lib/server/operator-jobs'
import { runRetention } from './maintenance'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService } from './queue-service'
import { DeferredQueue } from './queues/deferred-queue'
import { ExportQueue } from './queues/export-queue'

/** Fails its first run with failJob, completes when retried by an operator. */
const Flaky = z.strictObject({ key: z.string() })
const flakyRuns = new Map<string, number>()
const flakyQueue = defineQueue({ name: 'flaky', payload: Flaky })
class FlakyQueue extends QueueService<typeof flakyQueue> {
  readonly contract = flakyQueue
  async handleItem({ key }: z.infer<typeof Flaky>) {
    const runs = (flakyRuns.get(key) ?? 0) + 1
    flakyRuns.set(key, runs)
    if (runs === 1) this.failJob({ error: 'Upstream said no.' })
    return { runs }
  }
}

/** Runs until cancelled, checking at safe points. */
const waiterQueue = defineQueue({ name: 'waiter', payload: z.strictObject({}) })
class WaiterQueue extends QueueService<typeof waiterQueue> {
  readonly contract = waiterQueue
  async handleItem(): Promise<null> {
    for (;;) {
      this.checkCancelled()
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

const db = setupTestDatabase({ poolMax: 4 })
setupTestWorker(db, [ExportQueue, DeferredQueue, FlakyQueue, WaiterQueue])
const owner = '33333333-3333-4333-8333-333333333333'
const other = '44444444-4444-4444-8444-444444444444'

describe('job timeline', () => {
  it(
    'records queued, the attempt, progress quarters and completion of an export, in order',
    { timeout: 150_000 },
    async () => {
      const job = await enqueueJob(db.pool, { queue: EXPORTS_QUEUE, ownerId: owner, payload: {} })
      // Every city: about 2 s on an idle machine, far more on a busy one.
      await waitForJob(db.url, job.id, 'completed', 120_000)
      const kinds = (await getTimeline(db.pool, job.id)).map((e) => e.kind)
      expect(kinds[0]).toBe('queued')
      expect(kinds[1]).toBe('started')
      expect(kinds.at(-1)).toBe('completed')
      // Quarters are only recorded when a progress write crosses them; the file is complete either way.
      expect(kinds.filter((k) => k === 'progress').length).toBeLessThanOrEqual(3)
      expect(kinds.filter((k) => k === 'completed')).toHaveLength(1)
    },
  )

  it('records who cancelled: an operator cancel shows in the owner-visible timeline', async () => {
    const job = await enqueueJob(db.pool, { queue: 'waiter', ownerId: owner, payload: {} })
    await waitForJob(db.url, job.id, 'active')
    expect((await requestCancel(db.pool, job.id, null, 'operator')).kind).toBe('cancelling')
    const settled = await waitForJob(db.url, job.id, 'cancelled')
    expect(settled.cancelledBy).toBe('operator')
    const events = await getTimeline(db.pool, job.id)
    expect(events.map((e) => [e.kind, e.actor])).toEqual([
      ['queued', null],
      ['started', null],
      ['cancel_requested', 'operator'],
      ['cancelled', 'operator'],
    ])
  })

  it('lets an operator retry a failed job: it runs again and the timeline says who asked', async () => {
    const job = await enqueueJob(db.pool, { queue: 'flaky', ownerId: owner, payload: { key: 'retry-me' } })
    const failed = await waitForJob(db.url, job.id, 'failed')
    expect(failed.error).toEqual({ code: 'FAILED', message: 'Upstream said no.' })
    expect(await retryJobAsOperator(db.pool, await producerFor(db.pool), job.id)).toBe(true)
    const done = await waitForJob(db.url, job.id, 'completed')
    expect(done.result).toEqual({ runs: 2 })
    const kinds = (await getTimeline(db.pool, job.id)).map((e) => e.kind)
    expect(kinds).toEqual(['queued', 'started', 'failed', 'retry_requested', 'started', 'completed'])
    // A job that is not failed or cancelled cannot be retried.
    expect(await retryJobAsOperator(db.pool, await producerFor(db.pool), job.id)).toBe(false)
  })
})

describe('deferred actions', () => {
  it('sends the welcome email in the worker and records it', async () => {
    const job = await defer(db.pool, sendWelcomeEmail, { email: 'ada@example.com' }, { ownerId: owner })
    expect(job.queue).toBe(DEFERRED_QUEUE)
    expect(job.state).toBe('queued')
    const done = await waitForJob(db.url, job.id, 'completed')
    expect(done.result).toMatchObject({ messageId: expect.any(String) })
    const { rows } = await db.pool.query(
      'SELECT to_address, subject, owner_id, transport FROM app.sent_emails WHERE job_id = $1',
      [job.id],
    )
    expect(rows).toEqual([
      { to_address: 'ada@example.com', subject: 'Welcome!', owner_id: owner, transport: 'recorded' },
    ])
  })

  it('makes one job for repeated calls with one idempotency key', async () => {
    const calls = await Promise.all(
      [1, 2, 3].map(() =>
        defer(
          db.pool,
          sendWelcomeEmail,
          { email: 'grace@example.com' },
          { ownerId: owner, idempotencyKey: 'welcome:grace' },
        ).catch((e: Error) => e),
      ),
    )
    const ids = new Set(calls.map((c) => (c instanceof Error ? c.message : c.id)))
    // Concurrent inserts with one key: one wins, the others see it (or lose the race and retry).
    const jobs = await db.pool.query(`SELECT id FROM app.jobs WHERE idempotency_key = 'welcome:grace'`)
    expect(jobs.rowCount).toBe(1)
    const again = await defer(
      db.pool,
      sendWelcomeEmail,
      { email: 'grace@example.com' },
      { ownerId: owner, idempotencyKey: 'welcome:grace' },
    )
    expect(again.id).toBe(jobs.rows[0].id)
    expect(ids.has(again.id)).toBe(true)
    await waitForJob(db.url, again.id, 'completed')
    expect(await bossJobState(db.pool, DEFERRED_QUEUE, again.id)).not.toBeNull()
    // The same key of another owner is another job.
    const theirs = await defer(
      db.pool,
      sendWelcomeEmail,
      { email: 'grace@example.com' },
      { ownerId: other, idempotencyKey: 'welcome:grace' },
    )
    expect(theirs.id).not.toBe(again.id)
  })

  it("exists if and only if the caller's transaction commits", async () => {
    let inTx = ''
    await expect(
      withTransaction(db.pool, async (tx) => {
        inTx = (await defer(db.pool, sendWelcomeEmail, { email: 'rollback@example.com' }, { ownerId: owner, tx })).id
        throw new Error("the caller's own write failed")
      }),
    ).rejects.toThrow('own write failed')
    expect((await db.pool.query('SELECT 1 FROM app.jobs WHERE id = $1', [inTx])).rowCount).toBe(0)
    expect(await bossJobState(db.pool, DEFERRED_QUEUE, inTx)).toBeNull()

    let committed = ''
    await withTransaction(db.pool, async (tx) => {
      committed = (await defer(db.pool, sendWelcomeEmail, { email: 'commit@example.com' }, { ownerId: owner, tx })).id
    })
    await waitForJob(db.url, committed, 'completed')
  })

  it('survives the web process going away right after the call', async () => {
    const web = createPool(db.url, { max: 1 })
    const job = await defer(web, sendWelcomeEmail, { email: 'durable@example.com' }, { ownerId: owner })
    await stopProducer(web)
    await web.end()
    await waitForJob(db.url, job.id, 'completed')
  })

  it("refuses input that does not match the action's schema before storing anything", async () => {
    const before = await db.pool.query(`SELECT count(*)::int AS n FROM app.jobs`)
    await expect(defer(db.pool, sendWelcomeEmail, { email: 'not an email' }, { ownerId: owner })).rejects.toThrow()
    const after = await db.pool.query(`SELECT count(*)::int AS n FROM app.jobs`)
    expect(after.rows[0].n).toBe(before.rows[0].n)
  })
})

describe('history pages', () => {
  it("pages through one owner's jobs newest first by keyset, filtered by queue and state", async () => {
    const viewer = '55555555-5555-4555-8555-555555555555'
    const created: string[] = []
    for (let i = 0; i < 7; i++) {
      created.push((await defer(db.pool, sendWelcomeEmail, { email: `p${i}@example.com` }, { ownerId: viewer })).id)
    }
    await Promise.all(created.map((id) => waitForJob(db.url, id, 'completed')))
    const first = await listJobHistory(db.pool, { ownerId: viewer, filter: { queue: DEFERRED_QUEUE }, limit: 3 })
    const second = await listJobHistory(db.pool, {
      ownerId: viewer,
      filter: { queue: DEFERRED_QUEUE, cursor: first.nextCursor! },
      limit: 3,
    })
    const third = await listJobHistory(db.pool, {
      ownerId: viewer,
      filter: { queue: DEFERRED_QUEUE, cursor: second.nextCursor! },
      limit: 3,
    })
    expect(third.nextCursor).toBeNull()
    const ids = [...first.jobs, ...second.jobs, ...third.jobs].map((j) => j.id)
    expect(ids).toEqual([...created].reverse())
    expect((await listJobHistory(db.pool, { ownerId: viewer, filter: { state: 'failed' } })).jobs).toEqual([])
    expect((await listJobHistory(db.pool, { ownerId: viewer, filter: { queue: EXPORTS_QUEUE } })).jobs).toEqual([])
    // Someone else's history does not include these.
    const theirs = await listJobHistory(db.pool, { ownerId: other, filter: {} })
    expect(theirs.jobs.some((j) => created.includes(j.id))).toBe(false)
    // A forged cursor starts from the newest job instead of failing.
    const forged = await listJobHistory(db.pool, { ownerId: viewer, filter: { cursor: 'not-a-cursor' }, limit: 1 })
    expect(forged.jobs[0]?.id).toBe(created.at(-1))
  })
})

describe('operator view figures', () => {
  it('counts completed jobs of the last hour per queue and hides internal queues', async () => {
    const job = await enqueueJob(db.pool, { queue: 'flaky', ownerId: owner, payload: { key: 'count-me' } })
    await waitForJob(db.url, job.id, 'failed')
    const counts = await queueCounts(db.pool, await producerFor(db.pool))
    expect(counts.map((q) => q.name)).toEqual(
      expect.arrayContaining([EXPORTS_QUEUE, DEFERRED_QUEUE, 'flaky', 'waiter']),
    )
    expect(counts.some((q) => q.name.startsWith('__'))).toBe(false)
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM app.jobs WHERE queue = $1 AND state = 'completed' AND settled_at > now() - interval '1 hour'`,
      [EXPORTS_QUEUE],
    )
    expect(counts.find((q) => q.name === EXPORTS_QUEUE)?.completedLastHour).toBe(rows[0]!.n)
  })

  it('lists a running job as stuck once its heartbeat is overdue', async () => {
    const job = await enqueueJob(db.pool, { queue: 'waiter', ownerId: owner, payload: {} })
    await waitForJob(db.url, job.id, 'active')
    expect((await stuckJobs(db.pool)).map((j) => j.id)).not.toContain(job.id)
    // As if its worker had stopped sending heartbeats an hour ago.
    await backdateHeartbeat(db.pool, 'waiter', job.id, 3600)
    const stuck = await stuckJobs(db.pool)
    expect(stuck.find((j) => j.id === job.id)).toMatchObject({ state: 'active', ownerId: owner })
    await requestCancel(db.pool, job.id, owner)
    await waitForJob(db.url, job.id, 'cancelled')
  })
})

describe('retention', () => {
  it('deletes export files past their TTL and settled jobs past retention, with their timelines', async () => {
    const keep = await enqueueJob(db.pool, { queue: EXPORTS_QUEUE, ownerId: owner, payload: { country: 'AD' } })
    const fileOnly = await enqueueJob(db.pool, { queue: EXPORTS_QUEUE, ownerId: owner, payload: { country: 'LI' } })
    const whole = await enqueueJob(db.pool, { queue: EXPORTS_QUEUE, ownerId: owner, payload: { country: 'MC' } })
    await Promise.all([keep, fileOnly, whole].map((j) => waitForJob(db.url, j.id, 'completed')))
    await db.pool.query(`UPDATE app.jobs SET settled_at = now() - interval '2 days' WHERE id = $1`, [fileOnly.id])
    await db.pool.query(`UPDATE app.jobs SET settled_at = now() - interval '40 days' WHERE id = $1`, [whole.id])
    const deleted = await runRetention(db.pool, { fileHours: 24, jobDays: 30 })
    expect(deleted.files).toBeGreaterThanOrEqual(2)
    const parts = async (id: string) =>
      (await db.pool.query('SELECT count(*)::int AS n FROM app.job_file_parts WHERE job_id = $1', [id])).rows[0].n
    expect(await parts(keep.id)).toBeGreaterThan(0)
    expect(await parts(fileOnly.id)).toBe(0)
    const rows = await db.pool.query('SELECT id FROM app.jobs WHERE id = ANY($1::uuid[])', [
      [keep.id, fileOnly.id, whole.id],
    ])
    expect(rows.rows.map((r) => r.id).sort()).toEqual([keep.id, fileOnly.id].sort())
    expect(await getTimeline(db.pool, whole.id)).toEqual([])
  })
})
