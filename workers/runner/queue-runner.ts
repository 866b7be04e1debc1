/**
 * Runs one QueueService on pg-boss, composed of a FetchLoop (claims jobs for free slots), one
 * Attempt per running job (handler, abort, limits, progress), the Settler (fenced, batched
 * settling) and Heartbeats (one timer for the queue).
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
import { touchAttempts } from '@/lib/server/pgboss'
import type { Logger } from '../logger'
import { DEFAULT_QUEUE_OPTIONS, type QueueOptions, type QueueService } from '../queue-service'
import { Attempt } from './attempt'
import type { AttemptOutcome } from './outcome'
import { FetchLoop } from './fetch-loop'
import { Heartbeats } from './heartbeats'
import { Settler } from './settler'
import { stopAttempts } from './shutdown'
import { startBatch, type StartedJob } from './start-batch'
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
  /** The attempt of each job that runs or settles here, by job id (not those released without their handler). */
  private readonly attempts = new Map<string, Attempt>()
  /** Attempts whose handler is still running, released ones included: each holds a slot. */
  private readonly busySlots = new Set<Attempt>()
  private readonly fetchLoop: FetchLoop
  private readonly settler: Settler
  private readonly heartbeats: Heartbeats
  private readonly timing: RunnerTiming

  constructor(private readonly deps: QueueRunnerOptions) {
    const { boss, pool, queue, log } = deps
    this.name = queue.contract.name
    this.timing = { ...DEFAULT_RUNNER_TIMING, ...deps.timing }
    this.options = { ...DEFAULT_QUEUE_OPTIONS, ...queue.contract.options }
    const maxAttempts = this.options.retryLimit + 1
    this.fetchLoop = new FetchLoop({
      queue: this.name,
      freeSlots: () => queue.workerCount - this.busySlots.size,
      fetch: (count) => boss.fetch<unknown>(this.name, { batchSize: count }),
      start: async (jobs) => {
        for (const started of await startBatch({ ...this.deps, queue: this.name, maxAttempts }, jobs))
          this.startAttempt(started)
      },
      pollIntervalMs: this.timing.pollIntervalMs,
      log,
    })
    this.settler = new Settler({ pool, boss, queue: this.name, maxAttempts, log })
    this.heartbeats = new Heartbeats({
      intervalMs: (this.options.heartbeatSeconds * 1000) / 2,
      running: () => [...this.attempts.values()].map(({ id, retryCount }) => ({ id, retryCount })),
      touch: (attempts) => touchAttempts(boss, this.name, attempts),
      onLost: ({ id, retryCount }) => {
        const attempt = this.attempts.get(id)
        if (attempt?.retryCount === retryCount && !attempt.settling) attempt.abort('lost')
      },
      log,
    })
  }

  /** Ids of the jobs whose attempts run or settle in this process right now. */
  get activeJobIds(): string[] {
    return [...this.attempts.keys()]
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
    return this.attempts.get(jobId)?.cancel() ?? false
  }

  /**
   * Stops fetching at once, lets running jobs finish for `graceMs`, then aborts the rest with
   * reason "shutdown"; those that ignore it are failed into pg-boss's retry without them.
   */
  async stop(graceMs = 10_000): Promise<void> {
    await this.fetchLoop.stop()
    await stopAttempts(
      () => [...this.attempts.values()],
      graceMs,
      (a, outcome) => this.release(a, outcome),
    )
    this.heartbeats.stop()
  }

  private startAttempt({ job, record: { ownerId, ...snapshot } }: StartedJob): void {
    const { pool, log, publish } = this.deps
    const attempt = new Attempt(job.id, job.retryCount, ownerId, snapshot, {
      pool,
      log,
      publish,
      options: this.options,
      intervals: this.timing,
      release: (released, outcome) => void this.release(released, outcome),
    })
    // An earlier attempt of this job still here lost its claim (pg-boss expired or retried it):
    // it must write nothing more. Its writes are fenced by attempt in the database as well.
    const earlier = this.attempts.get(job.id)
    if (earlier) this.supersede(earlier)
    this.attempts.set(job.id, attempt)
    this.busySlots.add(attempt)
    attempt.done = this.run(attempt, job.data)
      .catch((err) => log.error(`job ${job.id}: could not be settled: ${(err as Error).stack ?? err}`))
      .finally(() => {
        this.busySlots.delete(attempt)
        if (this.attempts.get(job.id) === attempt) this.attempts.delete(job.id)
        this.fetchLoop.wake()
      })
  }

  private async run(attempt: Attempt, payload: unknown): Promise<void> {
    const outcome = await attempt.run(this.deps.queue, payload)
    // The handler is done: its slot is free now, so the next fetch overlaps the settling write.
    this.busySlots.delete(attempt)
    this.fetchLoop.wake()
    if (attempt.released) {
      this.deps.log.warn(
        `job ${attempt.id} attempt ${attempt.attempt}: handler ended (${outcome.kind}) after it was settled without it; discarded`,
      )
      return
    }
    await this.settler.settle(attempt.beginSettling(), outcome)
  }

  /** Settles `attempt` without waiting for its handler, which keeps its slot until it returns. */
  private async release(attempt: Attempt, outcome: AttemptOutcome): Promise<void> {
    if (attempt.settling) return
    const settled = this.supersede(attempt)
    try {
      await this.settler.settle(settled, outcome)
    } catch (err) {
      this.deps.log.error(`job ${attempt.id}: could not be released: ${(err as Error).message}`)
    }
  }

  /** Takes `attempt` out of this runner's books (no heartbeat, no cancel, no progress) for good. */
  private supersede(attempt: Attempt) {
    attempt.released = true
    attempt.abort('lost')
    if (this.attempts.get(attempt.id) === attempt) this.attempts.delete(attempt.id)
    return attempt.beginSettling()
  }
}
