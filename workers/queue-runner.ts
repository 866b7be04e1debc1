/**
 * Runs one QueueService on pg-boss: fetches jobs, runs up to `workerCount` at once, keeps their
 * heartbeats, coalesces progress, turns cancel requests into aborts, and settles each attempt in
 * `app.jobs` and pg-boss in one transaction, fenced by attempt.
 *
 * Why not pg-boss `work()`: it waits a full polling interval after every fetch, so at one job per
 * fetch a busy queue crawls. This loop fetches again at once while slots are free and jobs keep
 * coming, and otherwise sleeps until pg-boss's NOTIFY for the queue, a freed slot, or the poll timer.
 */
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import type { Job, PgBoss } from 'pg-boss'
import type { AnyQueueContract } from '@/lib/jobs/queue'
import { PROGRESS_MESSAGE_MAX, type JobError, type JobProgress, type JobSnapshot } from '@/lib/jobs/job'
import { isDatabaseUnavailable, withTransaction } from '@/lib/server/db'
import {
  completeMany,
  lockActiveAttempt,
  markActiveMany,
  markRetrying,
  nextSeq,
  saveProgress,
  settleJob,
} from '@/lib/server/job-store'
import {
  DEFAULT_QUEUE_OPTIONS,
  JobFailedError,
  type ProgressReport,
  runWithJobContext,
  type QueueOptions,
  type QueueService,
} from './queue-service'
import type { Logger } from './logger'

/** Timing knobs of a runner, in milliseconds. */
export interface RunnerTiming {
  /** Fetch at least this often when no NOTIFY arrives (a lost notification only costs latency). Default 2000. */
  pollIntervalMs: number
  /** Most one job's progress is written to `app.jobs`. Default 1000. */
  progressWriteMs: number
  /**
   * Most one job's progress is published to sockets. Default 200: at most 5 events a second per
   * job, each costing two statements (a sequence bump and the adapter's NOTIFY).
   */
  progressEmitMs: number
}

export const DEFAULT_RUNNER_TIMING: RunnerTiming = { pollIntervalMs: 2000, progressWriteMs: 1000, progressEmitMs: 200 }

/** How long a handler gets to react to an abort during shutdown before it is left behind, in ms. */
const ABORT_WAIT_MS = 2_000

/**
 * Why a job's signal was aborted: its owner cancelled; the worker is shutting down; the attempt
 * reached `expireInSeconds`; or pg-boss no longer counts this worker's claim (heartbeat lost).
 */
type AbortReason = 'cancel' | 'shutdown' | 'expired' | 'lost'

interface RunningJob {
  id: string
  retryCount: number
  attempt: number
  controller: AbortController
  snapshot: JobSnapshot
  ownerId: string
  /** The last report as the handler gave it, and its cleaned form (`progress`). */
  latest: ProgressReport | null
  cleanedFrom: ProgressReport | null
  progress: JobProgress | null
  lastWriteAt: number
  lastEmitAt: number
  /** Set before the attempt is settled: no progress event may follow the final state. */
  settling: boolean
  timers: NodeJS.Timeout[]
  writeTimer?: NodeJS.Timeout
  emitTimer?: NodeJS.Timeout
  done: Promise<void>
}

export interface QueueRunnerOptions {
  boss: PgBoss
  pool: pg.Pool
  queue: QueueService<AnyQueueContract>
  log: Logger
  /** Publishes a progress-only snapshot to the job owner's sockets (state changes go through the table trigger). */
  publish: (ownerId: string, snapshot: JobSnapshot) => void
  timing?: Partial<RunnerTiming>
}

/** Makes the short reference id logged with an unexpected error and shown to the job's owner. */
export function errorRef(): string {
  return randomBytes(4).toString('hex')
}

/** pg-boss options that run its statements on `client`, inside our transaction. */
function bossDbOf(client: pg.PoolClient) {
  return { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } }
}

/**
 * A progress report made safe to store and show: the message function (if any) called, whole
 * non-negative numbers, and a message that
 * jsonb can hold (no NUL, no lone surrogates) cut on purpose at `PROGRESS_MESSAGE_MAX` characters.
 */
export function cleanProgress(raw: ProgressReport): JobProgress {
  let text: string
  try {
    text = typeof raw.message === 'function' ? raw.message({ current: raw.current, total: raw.total }) : raw.message
  } catch {
    // A message function runs in a timer, outside the handler: its error must not end the process.
    text = ''
  }
  const clean = String(text).replaceAll('\u0000', '').toWellFormed()
  // A cut between the two halves of a surrogate pair (an emoji) drops the half left behind,
  // instead of turning it into U+FFFD.
  const message =
    clean.length > PROGRESS_MESSAGE_MAX
      ? `${clean.slice(0, PROGRESS_MESSAGE_MAX - 1).replace(/[\uD800-\uDBFF]$/, '')}…`
      : clean
  return {
    current: Number.isFinite(raw.current) ? Math.max(0, Math.floor(raw.current)) : 0,
    total: Number.isFinite(raw.total) ? Math.max(0, Math.floor(raw.total)) : 0,
    message,
  }
}

export class QueueRunner {
  readonly name: string
  readonly options: Required<QueueOptions>
  /** Jobs whose handler is running: at most `workerCount`. */
  private readonly running = new Map<string, RunningJob>()
  /** Jobs whose handler returned and whose completion is being written: they hold no slot. */
  private readonly completing = new Map<string, RunningJob>()
  private readonly timing: RunnerTiming
  private stopping = false
  private wakeUp: (() => void) | null = null
  private wakePending = false
  /** Completed attempts waiting to be settled together (see `complete`). */
  private completions: { entry: RunningJob; result: unknown; done: (err?: unknown) => void }[] = []
  private flushing = false
  private loop: Promise<void> | null = null

  constructor(private readonly o: QueueRunnerOptions) {
    this.name = o.queue.contract.name
    this.timing = { ...DEFAULT_RUNNER_TIMING, ...o.timing }
    this.options = { ...DEFAULT_QUEUE_OPTIONS, ...o.queue.contract.options }
  }

  /** Ids of the jobs whose handlers run in this process right now. */
  get activeJobIds(): string[] {
    return [...this.running.keys(), ...this.completing.keys()]
  }

  /** Starts fetching. Call once, after the queue exists in pg-boss. */
  start(): void {
    this.loop ??= this.fetchLoop()
  }

  /** Fetch now instead of at the next poll: a job was created (pg-boss NOTIFY) or a slot freed. */
  wake(): void {
    const wake = this.wakeUp
    this.wakeUp = null
    // Not sleeping (a fetch is in flight): remember it, so the next sleep returns at once
    // instead of missing a job that arrived during the fetch.
    if (wake) wake()
    else this.wakePending = true
  }

  /**
   * Aborts the job's signal with reason "cancel" if it runs here, and starts the queue's
   * `cancelGraceSeconds`: a handler still running then is settled as cancelled without it.
   * Returns whether the job runs here.
   */
  cancel(jobId: string): boolean {
    const job = this.running.get(jobId)
    if (!job || job.controller.signal.aborted) return false
    job.snapshot = { ...job.snapshot, cancelRequested: true }
    job.controller.abort('cancel' satisfies AbortReason)
    job.timers.push(
      setTimeout(() => {
        if (!this.running.has(jobId) || job.settling) return
        this.o.log.warn(
          `job ${jobId}: handler ignored the cancel for ${this.options.cancelGraceSeconds} s; settling it as cancelled`,
        )
        this.settleCancelled(job).catch((err) =>
          this.o.log.error(`job ${jobId}: forced cancel failed: ${(err as Error).message}`),
        )
      }, this.options.cancelGraceSeconds * 1000),
    )
    return true
  }

  /**
   * Stops fetching at once, lets running jobs finish for `graceMs`, then aborts the rest with
   * reason "shutdown": they are failed into pg-boss's retry, never left active.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true
    this.wake()
    await this.loop
    if (!(await this.allDone(graceMs))) {
      for (const job of this.running.values()) job.controller.abort('shutdown' satisfies AbortReason)
      // A handler that ignores its signal is not waited for: its attempt is failed into retry
      // here, and whatever it returns later is discarded (settling is fenced by attempt).
      if (!(await this.allDone(ABORT_WAIT_MS))) {
        await Promise.all(
          [...this.running.values()]
            .filter((job) => !job.settling)
            .map((job) =>
              this.failAttempt(job, new Error('handler ignored its abort signal'), 'shutdown')
                // Released: stop its heartbeat and expiry timer, whatever the abandoned handler does.
                .then(() => job.timers.forEach(clearTimeout))
                .catch((err) => this.o.log.error(`job ${job.id}: could not be released: ${(err as Error).message}`)),
            ),
        )
      }
    }
  }

  /**
   * Runs a settling write, retrying with backoff (0.5 s doubling to 15 s, about 90 s in all) while
   * the database is unreachable: a restart must not leave a finished attempt "active" until pg-boss
   * counts it lost. Other errors, and an outage that outlasts the retries, are thrown.
   */
  private async durably(write: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write()
      } catch (err) {
        if (!isDatabaseUnavailable(err) || attempt >= 8) throw err
        this.o.log.warn(`database unavailable while settling (${(err as Error).message}); retrying`)
        await new Promise((resolve) => setTimeout(resolve, Math.min(15_000, 500 * 2 ** attempt)))
      }
    }
  }

  /** Waits up to `ms` for every running job to settle; resolves whether they all did. */
  private async allDone(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    })
    const done = Promise.all([...this.running.values(), ...this.completing.values()].map((j) => j.done)).then(
      () => true as const,
    )
    const outcome = await Promise.race([done, timeout])
    clearTimeout(timer)
    return outcome
  }

  private async fetchLoop(): Promise<void> {
    let failures = 0
    while (!this.stopping) {
      const free = this.o.queue.workerCount - this.running.size
      if (free > 0) {
        try {
          const jobs = await this.o.boss.fetch<unknown>(this.name, { batchSize: free })
          failures = 0
          if (jobs.length > 0) await this.startJobs(jobs)
          // A full batch means more may be waiting: fetch again as soon as a slot is free.
          if (jobs.length === free) continue
        } catch (err) {
          failures++
          this.o.log.warn(`fetch from ${this.name} failed (${(err as Error).message}); retrying`)
          await this.sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)))
          continue
        }
      }
      await this.sleep(this.timing.pollIntervalMs)
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || this.wakePending) {
      this.wakePending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null
        resolve()
      }, ms)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /**
   * Marks a fetched batch running in one statement, then starts a handler for each. A job the
   * statement did not mark was cancelled while queued (or settled by an operator): it never runs.
   */
  private async startJobs(jobs: Job<unknown>[]): Promise<void> {
    let started: Map<string, JobSnapshot & { ownerId: string }>
    try {
      started = await markActiveMany(
        this.o.pool,
        jobs.map((j) => ({ id: j.id, attempt: j.retryCount + 1 })),
        this.options.retryLimit + 1,
      )
    } catch (err) {
      // Not started, not heartbeating: pg-boss retries them after heartbeatSeconds.
      this.o.log.warn(`could not start ${jobs.length} job(s) of ${this.name}: ${(err as Error).message}`)
      return
    }
    const skipped = jobs.filter((j) => !started.has(j.id)).map((j) => ({ id: j.id, retryCount: j.retryCount }))
    if (skipped.length) {
      await this.o.boss
        .cancel(this.name, skipped)
        .catch((err) => this.o.log.warn(`cancel of skipped jobs failed: ${(err as Error).message}`))
    }
    for (const job of jobs) {
      const snapshot = started.get(job.id)
      if (snapshot) this.startJob(job, snapshot)
    }
  }

  private startJob(job: Job<unknown>, started: JobSnapshot & { ownerId: string }): void {
    const { ownerId, ...snapshot } = started
    const entry = {
      id: job.id,
      retryCount: job.retryCount,
      attempt: job.retryCount + 1,
      controller: new AbortController(),
      ownerId,
      snapshot,
      latest: null,
      cleanedFrom: null,
      progress: null,
      lastWriteAt: 0,
      lastEmitAt: 0,
      settling: false,
      timers: [],
    } as unknown as RunningJob
    this.running.set(job.id, entry)
    entry.done = this.runJob(job, entry)
      .catch((err) => this.o.log.error(`job ${job.id}: could not be settled: ${(err as Error).stack ?? err}`))
      .finally(() => {
        entry.timers.forEach(clearTimeout)
        clearTimeout(entry.writeTimer)
        clearTimeout(entry.emitTimer)
        this.running.delete(job.id)
        this.completing.delete(job.id)
        this.wake()
      })
  }

  /**
   * Settles a completed attempt. Completions that arrive while one batch is being written are
   * written together in the next one (one transaction: our records, fenced by attempt, then
   * pg-boss's `complete` for the attempts that were still ours), so a busy queue pays a
   * transaction per batch, not per job. Results live in `app.jobs`; pg-boss keeps no output.
   */
  private complete(entry: RunningJob, result: unknown): Promise<void> {
    this.currentProgress(entry)
    entry.settling = true
    // The handler is done: its slot is free now, so the next fetch overlaps this write.
    this.running.delete(entry.id)
    this.completing.set(entry.id, entry)
    this.wake()
    return new Promise<void>((resolve, reject) => {
      this.completions.push({ entry, result, done: (err) => (err ? reject(err) : resolve()) })
      if (!this.flushing) void this.flushCompletions()
    })
  }

  private async flushCompletions(): Promise<void> {
    this.flushing = true
    try {
      while (this.completions.length > 0) {
        const batch = this.completions.splice(0, 200)
        try {
          await this.durably(() =>
            withTransaction(this.o.pool, async (client) => {
              const settled = await completeMany(
                client,
                batch.map(({ entry, result }) => ({
                  id: entry.id,
                  attempt: entry.attempt,
                  result: result ?? null,
                  progress: entry.progress,
                })),
              )
              const attempts = batch
                .filter(({ entry }) => settled.has(entry.id))
                .map(({ entry }) => ({ id: entry.id, retryCount: entry.retryCount }))
              if (attempts.length) await this.o.boss.complete(this.name, attempts, null, bossDbOf(client))
            }),
          )
          for (const c of batch) c.done()
        } catch (err) {
          for (const c of batch) c.done(err)
        }
      }
    } finally {
      this.flushing = false
    }
  }

  /**
   * Settles this attempt in one transaction: `app.jobs` first (fenced: only while this attempt
   * is the active one), then pg-boss only when our record changed, so a late or duplicate settle
   * (a forced cancel, a shutdown release) never overrides the first.
   */
  private async settle(
    entry: RunningJob,
    outcome: Parameters<typeof settleJob>[3],
    boss: (db: ReturnType<typeof bossDbOf>) => Promise<unknown>,
  ): Promise<void> {
    entry.settling = true
    if (outcome.progress !== undefined) outcome = { ...outcome, progress: this.currentProgress(entry) }
    await this.durably(() =>
      withTransaction(this.o.pool, async (client) => {
        if (await settleJob(client, entry.id, entry.attempt, outcome)) await boss(bossDbOf(client))
      }),
    )
  }

  private settleCancelled(entry: RunningJob): Promise<void> {
    return this.settle(entry, { state: 'cancelled', progress: entry.progress }, (db) =>
      this.o.boss.cancel(this.name, { id: entry.id, retryCount: entry.retryCount }, db),
    )
  }

  private async runJob(job: Job<unknown>, entry: RunningJob): Promise<void> {
    const { boss, queue, log } = this.o
    const attemptRef = { id: job.id, retryCount: job.retryCount }
    // Heartbeat (pg-boss heartbeatSeconds): a worker that stops sending it is counted as lost and
    // its attempt retried elsewhere. If pg-boss no longer counts our claim, stop the handler: two
    // attempts of one job must never run at once.
    entry.timers.push(
      setInterval(
        () => {
          boss.touch(this.name, attemptRef).then(
            (response) => {
              if ((response as { affected?: number }).affected === 0 && !entry.settling)
                entry.controller.abort('lost' satisfies AbortReason)
            },
            (err) => log.warn(`heartbeat for job ${job.id} failed: ${(err as Error).message}`),
          )
        },
        (this.options.heartbeatSeconds * 1000) / 2,
      ),
    )
    // Stop the handler just before pg-boss expires the attempt (expireInSeconds) and retries it.
    entry.timers.push(
      setTimeout(
        () => entry.controller.abort('expired' satisfies AbortReason),
        Math.max(1_000, this.options.expireInSeconds * 1000 - 1_000),
      ),
    )

    const parsed = queue.contract.payload.safeParse(job.data)
    if (!parsed.success) {
      const ref = errorRef()
      log.error(`job ${job.id} [ref ${ref}]: payload does not match ${this.name}'s schema: ${parsed.error.message}`)
      const error: JobError = {
        code: 'INVALID_PAYLOAD',
        message: 'This job was created with input the worker no longer accepts.',
        ref,
      }
      // Retrying cannot fix a payload: pg-boss records it as cancelled, app.jobs as failed.
      await this.settle(entry, { state: 'failed', error }, (db) => boss.cancel(this.name, attemptRef, db))
      return
    }
    try {
      const result = await runWithJobContext(
        {
          jobId: job.id,
          ownerId: entry.ownerId,
          attempt: entry.attempt,
          signal: entry.controller.signal,
          reportProgress: (progress) => this.onProgress(entry, progress),
        },
        () => queue.handleItem(parsed.data),
      )
      await this.complete(entry, result)
    } catch (err) {
      const reason = entry.controller.signal.reason as AbortReason | undefined
      if (reason === 'cancel') {
        await this.settleCancelled(entry)
      } else if (err instanceof JobFailedError) {
        const error: JobError = { code: 'FAILED', message: err.publicMessage }
        // pg-boss retries every fail() while retries remain; a controlled failure must not be
        // retried, so pg-boss records it as cancelled and app.jobs records it as failed.
        await this.settle(entry, { state: 'failed', error, progress: entry.progress }, (db) =>
          boss.cancel(this.name, attemptRef, db),
        )
      } else {
        await this.failAttempt(entry, err, reason)
      }
    }
  }

  /**
   * Fails the current attempt after an exception or an interruption: back to queued when retries
   * remain (pg-boss schedules the retry with its backoff, and `retryAt` says when), failed
   * otherwise. The owner sees a safe message and a reference; the log has the details under it.
   */
  private async failAttempt(entry: RunningJob, err: unknown, reason: AbortReason | undefined): Promise<void> {
    const ref = errorRef()
    const described: Record<string, { code: string; message: string; log: string }> = {
      shutdown: {
        code: 'INTERRUPTED',
        message: 'The worker was shut down while this job ran.',
        log: 'interrupted by shutdown',
      },
      expired: {
        code: 'EXPIRED',
        message: `The job ran longer than its limit of ${this.options.expireInSeconds} s.`,
        log: 'expired',
      },
      lost: {
        code: 'WORKER_LOST',
        message: 'The worker running this job lost contact with the database.',
        log: 'claim lost (no heartbeat)',
      },
    }
    const known = reason && described[reason]
    this.o.log.error(
      `job ${entry.id} attempt ${entry.attempt} [ref ${ref}]: ${known ? known.log : ((err as Error)?.stack ?? String(err))}`,
    )
    const error: JobError = known
      ? { code: known.code, message: known.message, ref }
      : { code: 'EXCEPTION', message: 'The job failed unexpectedly.', ref }
    const retries = entry.attempt < this.options.retryLimit + 1
    const attemptRef = { id: entry.id, retryCount: entry.retryCount }
    this.currentProgress(entry)
    entry.settling = true
    await this.durably(() =>
      withTransaction(this.o.pool, async (client) => {
        const db = bossDbOf(client)
        // Fenced like every settle: a forced cancel or an earlier release of this attempt wins.
        if (!(await lockActiveAttempt(client, entry.id, entry.attempt))) return
        await this.o.boss.fail(this.name, attemptRef, { ...error }, db)
        if (!retries) {
          await settleJob(client, entry.id, entry.attempt, { state: 'failed', error, progress: entry.progress })
          return
        }
        // pg-boss computed the retry's start (retryDelay, retryBackoff with jitter): show it.
        const [retry] = await this.o.boss.findJobs<unknown>(this.name, { id: entry.id, ...db })
        await markRetrying(client, entry.id, entry.attempt, error, retry?.startAfter ?? null)
      }),
    )
  }

  /**
   * Coalesces progress: emit at most every `progressEmitMs`, write at most every
   * `progressWriteMs`. Cheap enough to call per row: it keeps the latest report as given and
   * does the cleaning (`cleanProgress`) only when a timer fires or the attempt settles.
   */
  private onProgress(entry: RunningJob, raw: ProgressReport): void {
    entry.latest = raw
    if (entry.emitTimer && entry.writeTimer) return
    const now = Date.now()
    if (!entry.emitTimer) {
      entry.emitTimer = setTimeout(
        () => {
          entry.emitTimer = undefined
          entry.lastEmitAt = Date.now()
          void this.emitProgress(entry)
        },
        Math.max(0, entry.lastEmitAt + this.timing.progressEmitMs - now),
      )
    }
    if (!entry.writeTimer) {
      entry.writeTimer = setTimeout(
        () => {
          entry.writeTimer = undefined
          entry.lastWriteAt = Date.now()
          const progress = this.currentProgress(entry)
          if (entry.settling || !progress) return
          saveProgress(this.o.pool, entry.id, entry.attempt, progress).catch((err) =>
            this.o.log.warn(`progress write for job ${entry.id} failed: ${(err as Error).message}`),
          )
        },
        Math.max(0, entry.lastWriteAt + this.timing.progressWriteMs - now),
      )
    }
  }

  /** The latest report, cleaned (and cached until the next report). */
  private currentProgress(entry: RunningJob): JobProgress | null {
    if (entry.latest !== entry.cleanedFrom) {
      entry.cleanedFrom = entry.latest
      entry.progress = entry.latest ? cleanProgress(entry.latest) : null
    }
    return entry.progress
  }

  private async emitProgress(entry: RunningJob): Promise<void> {
    const progress = this.currentProgress(entry)
    if (!progress || entry.settling) return
    try {
      const seq = await nextSeq(this.o.pool)
      // A seq taken after settling began would outrank the final state: drop this update.
      if (entry.settling) return
      entry.snapshot = { ...entry.snapshot, progress, seq }
      this.o.publish(entry.ownerId, entry.snapshot)
    } catch (err) {
      this.o.log.warn(`progress event for job ${entry.id} failed: ${(err as Error).message}`)
    }
  }
}
