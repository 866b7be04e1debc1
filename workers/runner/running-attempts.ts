/**
 * The books of one queue's attempts in this process: which attempt holds each job and which hold
 * a slot, from start through handler, settling, release and supersession. An attempt keeps its
 * slot until its handler returns (even after it was released without it), and leaves the books
 * as soon as another attempt of its job takes over or it starts settling without its handler.
 */
import type pg from 'pg'
import type { AnyQueueContract } from '@/lib/jobs/queue'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { Logger } from '../logger'
import type { QueueOptions, QueueService } from '../queue-service'
import { Attempt } from './attempt'
import type { AttemptOutcome } from './outcome'
import type { ProgressIntervals } from './progress'
import type { Settler } from './settler'
import type { StartedJob } from './start-batch'

export interface RunningAttemptsOptions {
  pool: pg.Pool
  queue: QueueService<AnyQueueContract>
  log: Logger
  options: Required<QueueOptions>
  intervals: ProgressIntervals
  settler: Settler
  /** Publishes a progress-only snapshot to the job owner's sockets. */
  publish: (ownerId: string, snapshot: JobSnapshot) => void
  /** Called whenever a slot frees (the handler returned), so the fetch loop can refill it. */
  slotFreed: () => void
}

export class RunningAttempts {
  /** The attempt of each job that runs or settles here, by job id (not those released without their handler). */
  private readonly byJob = new Map<string, Attempt>()
  /** Attempts whose handler is still running, released ones included: each holds a slot. */
  private readonly busySlots = new Set<Attempt>()

  constructor(private readonly deps: RunningAttemptsOptions) {}

  /** Slots taken right now. */
  get busy(): number {
    return this.busySlots.size
  }

  /** Attempts that run or settle here right now. */
  all(): Attempt[] {
    return [...this.byJob.values()]
  }

  /** Ids of the jobs whose attempts run or settle here right now. */
  jobIds(): string[] {
    return [...this.byJob.keys()]
  }

  get(jobId: string): Attempt | undefined {
    return this.byJob.get(jobId)
  }

  /** Runs the handler of a started job in a slot, then settles its outcome. */
  start({ job, record: { ownerId, ...snapshot } }: StartedJob): void {
    const { pool, log, publish, options, intervals } = this.deps
    const attempt = new Attempt(job.id, job.retryCount, ownerId, snapshot, {
      pool,
      log,
      publish,
      options,
      intervals,
      release: (released, outcome) => void this.release(released, outcome),
    })
    // An earlier attempt of this job still here lost its claim (pg-boss expired or retried it):
    // it must write nothing more. Its writes are fenced by attempt in the database as well.
    const earlier = this.byJob.get(job.id)
    if (earlier) this.supersede(earlier)
    this.byJob.set(job.id, attempt)
    this.busySlots.add(attempt)
    attempt.done = this.run(attempt, job.data)
      .catch((err) => log.error(`job ${job.id}: could not be settled: ${(err as Error).stack ?? err}`))
      .finally(() => {
        this.busySlots.delete(attempt)
        if (this.byJob.get(job.id) === attempt) this.byJob.delete(job.id)
        this.deps.slotFreed()
      })
  }

  /** Settles `attempt` without waiting for its handler, which keeps its slot until it returns. */
  async release(attempt: Attempt, outcome: AttemptOutcome): Promise<void> {
    if (attempt.settling) return
    const settled = this.supersede(attempt)
    try {
      await this.deps.settler.settle(settled, outcome)
    } catch (err) {
      this.deps.log.error(`job ${attempt.id}: could not be released: ${(err as Error).message}`)
    }
  }

  private async run(attempt: Attempt, payload: unknown): Promise<void> {
    const outcome = await attempt.run(this.deps.queue, payload)
    // The handler is done: its slot is free now, so the next fetch overlaps the settling write.
    this.busySlots.delete(attempt)
    this.deps.slotFreed()
    if (attempt.released) {
      this.deps.log.warn(
        `job ${attempt.id} attempt ${attempt.attempt}: handler ended (${outcome.kind}) after it was settled without it; discarded`,
      )
      return
    }
    await this.deps.settler.settle(attempt.beginSettling(), outcome)
  }

  /** Takes `attempt` out of the books (no heartbeat, no cancel, no progress) for good. */
  private supersede(attempt: Attempt) {
    attempt.released = true
    attempt.abort('lost')
    if (this.byJob.get(attempt.id) === attempt) this.byJob.delete(attempt.id)
    return attempt.beginSettling()
  }
}
