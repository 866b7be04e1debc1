/**
 * One attempt of one job in this process: its state, its abort signal and progress tracker, the
 * handler run through `runHandler` (which turns whatever happened into an `AttemptOutcome`), and
 * the attempt's limits: the expiry abort (just before pg-boss would expire it) and, when the
 * handler outlives a limit (the cancel grace, the expiry itself), it asks to be released: settled
 * without its handler, whose later writes are then discarded (every write is fenced by attempt).
 */
import type pg from 'pg'
import type { AnyQueueContract } from '@/lib/jobs/queue'
import type { JobProgress, JobSnapshot } from '@/lib/jobs/job'
import { nextSeq, saveProgress } from '@/lib/server/job-store'
import type { Logger } from '../logger'
import type { QueueOptions, QueueService } from '../queue-service'
import { failedAttempt, type AbortReason, type AttemptOutcome } from './outcome'
import { ProgressTracker, type ProgressIntervals } from './progress'
import { runHandler } from './run-handler'
import type { SettledAttempt } from './settler'

export interface AttemptDeps {
  pool: pg.Pool
  log: Logger
  options: Required<QueueOptions>
  intervals: ProgressIntervals
  /** Publishes a progress-only snapshot to the owner's sockets (state changes go through the table trigger). */
  publish: (ownerId: string, snapshot: JobSnapshot) => void
  /** Settles `attempt` with `outcome` without waiting for its handler (a limit passed). */
  release: (attempt: Attempt, outcome: AttemptOutcome) => void
}

export class Attempt {
  /** 1-based attempt number. */
  readonly attempt: number
  /** Set when the outcome starts being written: no progress is written or published after it. */
  settling = false
  /** Settled without its handler: whatever the handler returns later is discarded. */
  released = false
  /** Resolves once the handler returned and its outcome was written (set by the runner). */
  done: Promise<void> = Promise.resolve()
  private readonly controller = new AbortController()
  private readonly progress: ProgressTracker
  private readonly timers: NodeJS.Timeout[] = []

  constructor(
    readonly id: string,
    readonly retryCount: number,
    readonly ownerId: string,
    private snapshot: JobSnapshot,
    private readonly deps: AttemptDeps,
  ) {
    this.attempt = retryCount + 1
    this.progress = new ProgressTracker(deps.intervals, {
      write: (progress) =>
        void saveProgress(deps.pool, id, this.attempt, progress).catch((err) =>
          deps.log.warn(`progress write for job ${id} failed: ${(err as Error).message}`),
        ),
      emit: (progress) => void this.publishProgress(progress),
    })
  }

  /** Runs the handler; never throws. */
  async run(queue: QueueService<AnyQueueContract>, payload: unknown): Promise<AttemptOutcome> {
    const { expireInSeconds } = this.deps.options
    // Stop the handler just before pg-boss expires the attempt; if it is still running a second
    // after the expiry, settle it without the handler so its retry can start (here or elsewhere).
    this.timers.push(setTimeout(() => this.abort('expired'), Math.max(1_000, expireInSeconds * 1000 - 1_000)))
    this.timers.push(
      setTimeout(
        () => {
          if (!this.settling) this.deps.release(this, this.failure(null, 'expired'))
        },
        expireInSeconds * 1000 + 1_000,
      ),
    )
    const { id, ownerId, attempt, progress, controller } = this
    return runHandler(
      queue,
      payload,
      {
        id,
        ownerId,
        attempt,
        progress,
        signal: controller.signal,
        failure: (err, reason) => this.failure(err, reason),
      },
      this.deps.log,
    )
  }

  /** Aborts the handler's signal (once; the first reason wins). */
  abort(reason: AbortReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason)
  }

  /**
   * The owner cancelled: aborts with "cancel" and starts the queue's `cancelGraceSeconds`, after
   * which a handler still running is settled as cancelled without it. False if already aborted or
   * the handler already returned.
   */
  cancel(): boolean {
    // Settling: the handler already returned, nothing is left to stop.
    if (this.settling || this.controller.signal.aborted) return false
    this.snapshot = { ...this.snapshot, cancelRequested: true }
    this.abort('cancel')
    this.timers.push(
      setTimeout(() => {
        if (this.settling) return
        this.deps.log.warn(
          `job ${this.id}: handler ignored the cancel for ${this.deps.options.cancelGraceSeconds} s; settling it as cancelled`,
        )
        this.deps.release(this, { kind: 'cancelled' })
      }, this.deps.options.cancelGraceSeconds * 1000),
    )
    return true
  }

  /** Stops progress and the attempt's timers; returns what the settler needs. Idempotent. */
  beginSettling(): SettledAttempt {
    this.settling = true
    this.timers.forEach(clearTimeout)
    return { id: this.id, retryCount: this.retryCount, attempt: this.attempt, progress: this.progress.close() }
  }

  /** A retryable failure of this attempt after `err` or an interruption (see `failedAttempt`). */
  failure(err: unknown, reason: AbortReason | undefined): AttemptOutcome {
    const { id, attempt, deps } = this
    return failedAttempt({ id, attempt, expireInSeconds: deps.options.expireInSeconds }, err, reason, deps.log)
  }

  private async publishProgress(progress: JobProgress): Promise<void> {
    try {
      const seq = await nextSeq(this.deps.pool)
      // A seq taken after settling began would outrank the final state: drop this update.
      if (this.settling) return
      this.snapshot = { ...this.snapshot, progress, seq }
      this.deps.publish(this.ownerId, this.snapshot)
    } catch (err) {
      this.deps.log.warn(`progress event for job ${this.id} failed: ${(err as Error).message}`)
    }
  }
}
