/**
 * Runs one QueueService on pg-boss, composed of a FetchLoop (claims jobs for free slots),
 * RunningAttempts (one Attempt per running job: handler, abort, limits, progress; and the slots
 * they hold), the Settler (fenced, batched settling) and Heartbeats (one timer for the queue).
 *
 * Why our own loop and not pg-boss `work()` (checked against pg-boss 12.38): `work()` runs
 * `localConcurrency` independent pollers, each claiming its own `batchSize` and handling that
 * batch as a whole; a poller that is done waits out `pollingIntervalSeconds` (0.5 s at least)
 * unless NOTIFY or a burst option fires, and `burstWhenReadyExceeds` reads a queue count cached
 * for `queueCacheIntervalSeconds`. Here every slot that frees is refilled at once, all free slots
 * with one fetch. And each attempt must settle in the same short transaction as its `app.jobs`
 * record, fenced by attempt: `work()` settles on its own connection after the handler, and its
 * `transactional` mode holds one transaction, and a connection, open for the handler's whole run.
 */
import type pg from 'pg'
import type { AnyQueueContract } from '@/lib/jobs/queue'
import type { PgBoss } from 'pg-boss'
import type { JobSnapshot } from '@/lib/jobs/job'
import { claimJobs, touchAttempts, type ClaimedJob } from '@/lib/server/pgboss'
import type { Logger } from '../logger'
import { DEFAULT_QUEUE_OPTIONS, type QueueOptions, type QueueService } from '../queue-service'
import { FetchLoop } from './fetch-loop'
import { Heartbeats } from './heartbeats'
import { RunningAttempts } from './running-attempts'
import { Settler } from './settler'
import { stopAttempts } from './shutdown'
import { startBatch } from './start-batch'
import { DEFAULT_RUNNER_TIMING, type RunnerTiming } from './timing'

export interface QueueRunnerOptions {
  boss: PgBoss
  pool: pg.Pool
  queue: QueueService<AnyQueueContract>
  log: Logger
  /** Publishes a progress-only snapshot to the job owner's sockets (state changes go through the table trigger). */
  publish: (ownerId: string, snapshot: JobSnapshot) => void
  timing?: Partial<RunnerTiming>
}

export class QueueRunner {
  readonly name: string
  readonly options: Required<QueueOptions>
  private readonly running: RunningAttempts
  private readonly fetchLoop: FetchLoop<ClaimedJob>
  private readonly heartbeats: Heartbeats

  constructor(deps: QueueRunnerOptions) {
    const { boss, pool, queue, log, publish } = deps
    const name = queue.contract.name
    this.name = name
    const timing = { ...DEFAULT_RUNNER_TIMING, ...deps.timing }
    this.options = { ...DEFAULT_QUEUE_OPTIONS, ...queue.contract.options }
    const maxAttempts = this.options.retryLimit + 1
    const settler = new Settler({ pool, boss, queue: name, maxAttempts, log })
    this.running = new RunningAttempts({
      pool,
      queue,
      log,
      publish,
      settler,
      options: this.options,
      intervals: timing,
      slotFreed: () => this.fetchLoop.wake(),
    })
    this.fetchLoop = new FetchLoop({
      queue: name,
      freeSlots: () => queue.workerCount - this.running.busy,
      // Claims and marks running in one statement; a failed claim claims nothing.
      fetch: (count) => claimJobs(boss, pool, name, { count, maxAttempts }),
      start: async (claimed) => {
        for (const started of await startBatch({ boss, log, queue: name }, claimed)) this.running.start(started)
      },
      pollIntervalMs: timing.pollIntervalMs,
      log,
    })
    this.heartbeats = new Heartbeats({
      intervalMs: (this.options.heartbeatSeconds * 1000) / 2,
      running: () => this.running.all().map(({ id, retryCount }) => ({ id, retryCount })),
      touch: (attempts) => touchAttempts(boss, name, attempts),
      onLost: ({ id, retryCount }) => {
        const attempt = this.running.get(id)
        if (attempt?.retryCount === retryCount && !attempt.settling) attempt.abort('lost')
      },
      log,
    })
  }

  /** Ids of the jobs whose attempts run or settle in this process right now. */
  get activeJobIds(): string[] {
    return this.running.jobIds()
  }

  /** Starts fetching. Call once, after the queue exists in pg-boss. */
  start(): void {
    this.heartbeats.start()
    this.fetchLoop.start()
  }

  /** Fetch now instead of at the next poll: a job of this queue was created or became due. */
  wake(): void {
    this.fetchLoop.wake()
  }

  /** Aborts the job's signal with reason "cancel" if it runs here (see `Attempt.cancel`); returns whether it does. */
  cancel(jobId: string): boolean {
    return this.running.get(jobId)?.cancel() ?? false
  }

  /**
   * Stops fetching at once, lets running jobs finish for `graceMs`, then aborts the rest with
   * reason "shutdown"; those that ignore it are failed into pg-boss's retry without them.
   */
  async stop(graceMs = 10_000): Promise<void> {
    await this.fetchLoop.stop()
    await stopAttempts(
      () => this.running.all(),
      graceMs,
      (attempt, outcome) => this.running.release(attempt, outcome),
    )
    this.heartbeats.stop()
  }
}
