/**
 * Queues for fault-injection tests run in a separate worker process (test/worker-entry.ts):
 * heartbeats at pg-boss's shortest (10 s) so a killed worker is noticed quickly, and a handler that
 * works for as long as its item says, optionally ignoring its signal. It prints one line per step
 * (`[handler] started <id> attempt <n>`), which is what the tests wait on.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { defineQueue, type QueueContract } from '@/lib/jobs/queue'
import { QueueService, type QueueClass } from '@/workers/queue-service'

/** The signing secret of test/worker-entry.ts processes (realtime tokens for them are signed with it). */
export const FAULT_WORKER_SECRET = 'fault-worker-secret-fault-worker-secret'

export const FaultItem = z.strictObject({
  /** Milliseconds the handler works on attempts up to `slowAttempts`; later attempts finish at once. */
  workMs: z.number().int().nonnegative().default(0),
  slowAttempts: z.number().int().positive().default(1_000),
  /** Keep working when the signal aborts, like a handler that never checks it. */
  ignoreSignal: z.boolean().default(false),
})
export type FaultItem = z.infer<typeof FaultItem>

abstract class FaultQueue extends QueueService<QueueContract<typeof FaultItem>> {
  readonly workerCount = 2

  async handleItem(item: FaultItem) {
    const { jobId, attempt } = this.job
    console.log(`[handler] started ${jobId} attempt ${attempt}`)
    this.reportProgress({ current: 50, total: 100, message: 'Halfway there' })
    const ms = attempt <= item.slowAttempts ? item.workMs : 0
    if (item.ignoreSignal) {
      await sleep(ms)
    } else {
      await sleep(ms, undefined, { signal: this.signal }).catch(() => {
        console.log(`[handler] aborted ${jobId} attempt ${attempt}: ${String(this.signal.reason)}`)
        this.checkCancelled()
      })
    }
    this.reportProgress({ current: 100, total: 100, message: 'Done' })
    console.log(`[handler] finished ${jobId} attempt ${attempt}`)
    return { attempt }
  }
}

/** One retry, 6 s after the failed attempt (longer than the 5 s reconcile, so "worker lost, retrying" shows). */
export class FaultRetryQueue extends FaultQueue {
  readonly contract = defineQueue({
    name: 'fault-retry',
    payload: FaultItem,
    options: { retryLimit: 1, retryDelay: 6, retryBackoff: false, heartbeatSeconds: 10 },
  })
}

/** No retries: a lost attempt fails the job. */
export class FaultFinalQueue extends FaultQueue {
  readonly contract = defineQueue({
    name: 'fault-final',
    payload: FaultItem,
    options: { retryLimit: 0, heartbeatSeconds: 10 },
  })
}

export const faultQueues: QueueClass[] = [FaultRetryQueue, FaultFinalQueue]
