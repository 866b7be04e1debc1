import { AsyncResource } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { JobProgress } from '@/lib/jobs/job'
import { defineQueue } from '@/lib/jobs/queue'
import type { Logger } from '../logger'
import { QueueService, type ReportProgress } from '../queue-service'
import { ProgressTracker } from './progress'
import { runHandler } from './run-handler'

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined }

const reportsQueue = defineQueue({
  name: 'reports',
  payload: z.object({ step: z.enum(['leave', 'hold', 'relay', 'report']) }),
})

type Step = z.infer<typeof reportsQueue.payload>['step']

/**
 * A handler that leaves ways to report behind: `leave` keeps the job's bound reporter and a
 * callback that uses the `this.reportProgress` helper in the job's own async context (as a timer
 * or a stream listener would); `hold` keeps the bound reporter and runs until `release()`;
 * `relay` calls the kept reporter from its own job.
 */
class ReportsQueue extends QueueService<typeof reportsQueue> {
  readonly contract = reportsQueue
  readonly workerCount = 2
  bound: ReportProgress | undefined
  viaHelper: ((current: number) => void) | undefined
  private released = Promise.withResolvers<void>()

  release(): void {
    this.released.resolve()
  }

  async handleItem({ step }: { step: Step }): Promise<null> {
    if (step === 'leave') {
      this.bound = this.job.reportProgress
      this.viaHelper = AsyncResource.bind((current: number) => this.reportProgress(current, 100, 'late'))
    }
    if (step === 'hold') {
      this.bound = this.job.reportProgress
      await this.released.promise
      return null
    }
    if (step === 'relay') this.bound!({ current: 7, total: 8, message: 'relayed' })
    this.reportProgress(1, 2, step)
    return null
  }
}

/** A tracker as an attempt makes one, recording everything it writes or publishes. */
function tracked() {
  const sent: JobProgress[] = []
  const tracker = new ProgressTracker(
    { progressEmitMs: 0, progressWriteMs: 0 },
    { write: (p) => sent.push(p), emit: (p) => sent.push(p) },
  )
  return { tracker, sent }
}

function run(queue: ReportsQueue, id: string, step: Step, progress: ProgressTracker) {
  const attempt = { id, ownerId: 'owner', attempt: 1, signal: new AbortController().signal, progress }
  return runHandler(queue, { step }, { ...attempt, failure: () => ({ kind: 'cancelled' }) }, quiet)
}

describe('runHandler', () => {
  it('drops a report made after its attempt settled instead of giving it to the next job', async () => {
    const queue = new ReportsQueue({ pool: null as never })
    const first = tracked()
    expect(await run(queue, 'job-1', 'leave', first.tracker)).toEqual({ kind: 'completed', result: null })
    // The runner closes the tracker as the attempt settles.
    expect(first.tracker.close()).toEqual({ current: 1, total: 2, message: 'leave' })

    const second = tracked()
    const secondDone = run(queue, 'job-2', 'report', second.tracker)
    // Job 2 runs on the same QueueService instance while job 1's leftovers report.
    queue.bound!(99, 100, 'late')
    queue.viaHelper!(98)
    expect(await secondDone).toEqual({ kind: 'completed', result: null })
    expect(second.tracker.close()).toEqual({ current: 1, total: 2, message: 'report' })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect([...first.sent, ...second.sent].filter((p) => p.message === 'late')).toEqual([])
  })

  it('gives a bound reporter called from another job to the job it was taken from', async () => {
    const queue = new ReportsQueue({ pool: null as never })
    const holding = tracked()
    const held = run(queue, 'job-1', 'hold', holding.tracker)
    const other = tracked()
    // Job 2's handler calls job 1's reporter: the report must reach job 1.
    await run(queue, 'job-2', 'relay', other.tracker)
    queue.release()
    await held
    expect(holding.tracker.close()).toEqual({ current: 7, total: 8, message: 'relayed' })
    expect(other.tracker.close()).toEqual({ current: 1, total: 2, message: 'relay' })
  })
})
