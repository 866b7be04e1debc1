import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { enqueueJob } from '@/lib/server/enqueue'
import { requestCancel } from '@/lib/server/job-store'
import { setupTestDatabase, setupTestWorker, waitForJob } from '@/test/kit'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService } from './queue-service'

/** A queue whose handler does what the item says, so each test scripts its own job. */
const Step = z.object({
  mode: z.enum(['complete', 'fail', 'throw', 'wait-cancel']),
  steps: z.number().int().default(3),
  gate: z.string().optional(),
})
type Step = z.infer<typeof Step>

const gates = new Map<string, () => void>()
let activeNow = 0
let maxActive = 0

const scriptedQueue = defineQueue({ name: 'scripted', payload: Step, options: { retryLimit: 0, heartbeatSeconds: 10 } })

class ScriptedQueue extends QueueService<typeof scriptedQueue> {
  readonly contract = scriptedQueue
  readonly workerCount = 2

  async handleItem(item: Step) {
    activeNow++
    maxActive = Math.max(maxActive, activeNow)
    try {
      for (let i = 1; i <= item.steps; i++)
        this.reportProgress({ current: i, total: item.steps, message: `step ${i} of ${this.job.jobId}` })
      if (item.mode === 'fail') this.failJob({ error: 'The input had no rows to work on.' })
      if (item.mode === 'throw') throw new Error('boom: secret internal detail')
      if (item.mode === 'wait-cancel') {
        while (true) {
          this.checkCancelled()
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      // Hold until the test opens the gate, so two jobs overlap.
      if (item.gate) await new Promise<void>((resolve) => gates.set(item.gate!, resolve))
      // After an await, the helpers must still resolve to this job.
      this.reportProgress({ current: item.steps, total: item.steps, message: `done ${this.job.jobId}` })
      return { steps: item.steps }
    } finally {
      activeNow--
    }
  }
}
const db = setupTestDatabase({ poolMax: 2 })
setupTestWorker(db, [ScriptedQueue])
const owner = '11111111-1111-4111-8111-111111111111'

function enqueue(item: Partial<Step>) {
  return enqueueJob(db.pool, { queue: 'scripted', ownerId: owner, payload: { mode: 'complete', ...item } })
}

describe('QueueRunner', () => {
  it('runs an enqueued job to completed with its final progress and result', async () => {
    const job = await enqueue({ mode: 'complete', steps: 4 })
    expect(job.state).toBe('queued')
    const done = await waitForJob(db.url, job.id, 'completed')
    expect(done.result).toEqual({ steps: 4 })
    expect(done.progress).toEqual({ current: 4, total: 4, message: `done ${job.id}` })
    expect(done.attempt).toBe(1)
  })

  it('fails a job that calls failJob with its message and does not retry', async () => {
    const job = await enqueue({ mode: 'fail' })
    const failed = await waitForJob(db.url, job.id, 'failed')
    expect(failed.error).toEqual({ code: 'FAILED', message: 'The input had no rows to work on.' })
    expect(failed.attempt).toBe(1)
  })

  it('fails a job whose handler throws with a safe message and a reference, never the exception text', async () => {
    const job = await enqueue({ mode: 'throw' })
    const failed = await waitForJob(db.url, job.id, 'failed')
    expect(failed.error?.code).toBe('EXCEPTION')
    expect(failed.error?.message).not.toContain('secret')
    expect(failed.error?.ref).toMatch(/^[0-9a-f]{8}$/)
  })

  it('stops a running job at its next checkCancelled when its owner cancels', async () => {
    const job = await enqueue({ mode: 'wait-cancel' })
    await waitForJob(db.url, job.id, 'active')
    const outcome = await requestCancel(db.pool, job.id, owner)
    expect(outcome.kind).toBe('cancelling')
    const cancelled = await waitForJob(db.url, job.id, 'cancelled', 5_000)
    expect(cancelled.cancelRequested).toBe(true)
  })

  it('runs two jobs at once with workerCount 2, each reporting its own progress', async () => {
    maxActive = 0
    const a = await enqueue({ mode: 'complete', steps: 2, gate: 'a' })
    const b = await enqueue({ mode: 'complete', steps: 5, gate: 'b' })
    await Promise.all([waitForJob(db.url, a.id, 'active'), waitForJob(db.url, b.id, 'active')])
    await expect.poll(() => gates.size).toBe(2)
    gates.get('a')!()
    gates.get('b')!()
    const [doneA, doneB] = await Promise.all([
      waitForJob(db.url, a.id, 'completed'),
      waitForJob(db.url, b.id, 'completed'),
    ])
    expect(doneA.progress?.message).toBe(`done ${a.id}`)
    expect(doneB.progress?.message).toBe(`done ${b.id}`)
    expect(doneB.progress?.total).toBe(5)
    expect(maxActive).toBe(2)
  })
})
