/**
 * The base class of every queue's handler. Subclass it with the queue's contract (lib/jobs, made
 * by `defineQueue`), write `handleItem(item)`, and map it to its contract in workers/providers.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type pg from 'pg'
import type { AnyQueueContract, PayloadOf, ResultOf } from '@/lib/jobs/queue'

// Options and their defaults belong to the contract now (lib/jobs/queue.ts); re-exported for the worker.
export { DEFAULT_QUEUE_OPTIONS, type QueueOptions } from '@/lib/jobs/queue'

/**
 * A progress message: text, or a function of the report it belongs to. A function is called only
 * when the report is about to be written or sent (on the runner's progress timers, a few times a
 * second), so reporting on every row stays cheap even when the message formats numbers.
 */
export type ProgressMessage = string | ((report: { current: number; total: number }) => string)

/** A progress report as a handler gives it: `current` of `total` units and a message. */
export interface ProgressReport {
  current: number
  total: number
  message: ProgressMessage
}

/**
 * Reports one job's progress: `current` of `total` units and a message, in either form of
 * `QueueService.reportProgress`. The function in `JobContext.reportProgress` is bound to its job's
 * attempt, so it can be taken once and called from anywhere: a hot loop, a stream's callback.
 */
export interface ReportProgress {
  (progress: ProgressReport): void
  (current: number, total?: number, message?: ProgressMessage): void
}

/** What a queue's handler can use besides its item. */
export interface QueueDeps {
  /** The worker's connection pool. */
  pool: pg.Pool
}

/** The running job, as seen from inside `handleItem`. */
export interface JobContext {
  readonly jobId: string
  readonly ownerId: string
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number
  /**
   * Aborted when this attempt must stop. `signal.reason` says why: `'cancel'` (its owner or an
   * operator cancelled), `'shutdown'` (the worker is stopping), `'expired'` (a second before
   * `expireInSeconds`) or `'lost'` (pg-boss no longer counts this worker's claim, for example after
   * heartbeats failed during a database outage).
   */
  readonly signal: AbortSignal
  /**
   * `QueueService.reportProgress` bound to this attempt: same forms, same effect, but no lookup of
   * the current job, so a call costs three field writes. Take it once where reports are made per
   * row (`const { reportProgress } = this.job`, then `reportProgress(i + 1, rows, message)` in the
   * loop) or from callbacks that run outside `handleItem`'s async context. Calls made after this
   * attempt settled (or was settled without its handler) are discarded: they never reach the job,
   * its retry, or any other job.
   */
  readonly reportProgress: ReportProgress
}

/** Thrown by `checkCancelled()`; the runner settles the job as cancelled. */
export class JobCancelledError extends Error {
  constructor() {
    super('The job was cancelled.')
    this.name = 'JobCancelledError'
  }
}

/** Thrown by `failJob()`; the runner settles the job as failed without retrying. */
export class JobFailedError extends Error {
  constructor(readonly publicMessage: string) {
    super(publicMessage)
    this.name = 'JobFailedError'
  }
}

const currentJob = new AsyncLocalStorage<JobContext>()

/** Runs `fn` with `context` as the current job of every QueueService call made inside it. */
export function runWithJobContext<T>(context: JobContext, fn: () => Promise<T>): Promise<T> {
  return currentJob.run(context, fn)
}

/**
 * The handler of one queue's jobs. `workerCount` jobs run at once in each worker process; the
 * per-job helpers (`reportProgress`, `checkCancelled`, `failJob`, `job`) resolve to the job whose
 * `handleItem` is calling them, through AsyncLocalStorage, even when several run concurrently.
 *
 * ```ts
 * export class ExportQueue extends QueueService<typeof exportsQueue> {
 *   readonly contract = exportsQueue
 *   async handleItem(item: ExportItem) { ... }
 * }
 * ```
 * The queue's name, payload schema and pg-boss options come from `contract`. A test subclass can
 * run the same handler under another name or options by overriding it:
 * `readonly contract = { ...exportsQueue, name: 'exports_per_row' }` (contract names are `string`,
 * never a literal type, so this compiles).
 *
 * @typeParam C - the queue's contract: `handleItem` receives `PayloadOf<C>` (the payload after the
 *   contract's schema parsed it) and returns `ResultOf<C>` (stored as the job's result; must be JSON).
 */
export abstract class QueueService<C extends AnyQueueContract> {
  /** The queue's contract: its name, payload schema (every payload is re-parsed: queued jobs outlive deploys) and options. */
  abstract readonly contract: C
  /** Jobs of this queue one worker process runs at once. Default 1. */
  readonly workerCount: number = 1

  constructor(protected readonly deps: QueueDeps) {}

  /** Does the work of one job. Throwing fails the attempt (retried per the contract's `options`). */
  abstract handleItem(item: PayloadOf<C>): Promise<ResultOf<C>>

  /** The job this call is running for. Throws outside `handleItem`. */
  protected get job(): JobContext {
    const context = currentJob.getStore()
    if (!context) throw new Error(`${this.constructor.name}: job helpers can only be used inside handleItem().`)
    return context
  }

  /**
   * This attempt's abort signal; pass it to fetch, streams and timers. It fires on cancel (the
   * owner or an operator), shutdown, expiry (a second before `expireInSeconds`) and a lost claim
   * (pg-boss no longer counts this worker's heartbeat); `signal.reason` is `'cancel'`,
   * `'shutdown'`, `'expired'` or `'lost'`. A handler that ignores it is settled without it (after
   * `cancelGraceSeconds`, a second past the expiry, or a shutdown's grace) and every later write of
   * that attempt (progress, file parts, result) is discarded.
   */
  protected get signal(): AbortSignal {
    return this.job.signal
  }

  /**
   * Reports progress: `current` of `total` units and a message. Two forms, one effect:
   * - `reportProgress({ current, total, message })`: a whole report;
   * - `reportProgress(current, total?, message?)`: the per-row form, which allocates nothing when
   *   `message` is a string constant or a function made once outside the loop; an omitted `total`
   *   or `message` keeps its last value.
   *
   * Either form only stores the numbers: the runner samples them on its timers, writing to the
   * database at most every `progressWriteMs` (default 1 s) and publishing at most every
   * `progressEmitMs` (see `RunnerTiming`), and the last report is always delivered with the job's
   * final state. Numbers are stored whole and non-negative; the message is cut at 500 characters
   * (`PROGRESS_MESSAGE_MAX`).
   *
   * Each call finds its job through AsyncLocalStorage (tens of nanoseconds, more than the report
   * itself). In a loop that reports on every row, take the job's bound reporter once instead:
   * `const { reportProgress } = this.job` (see `JobContext.reportProgress`).
   */
  protected reportProgress(progress: ProgressReport): void
  protected reportProgress(current: number, total?: number, message?: ProgressMessage): void
  protected reportProgress(first: ProgressReport | number, total?: number, message?: ProgressMessage): void {
    const job = this.job
    if (typeof first === 'number') job.reportProgress(first, total, message)
    else job.reportProgress(first)
  }

  /**
   * Throws `JobCancelledError` once this attempt's `signal` fired: on cancel, shutdown, expiry or a
   * lost claim (see `signal`). Call it at safe points between steps. The runner settles a cancel
   * as cancelled and the other reasons as a failed attempt, retried while attempts remain.
   */
  protected checkCancelled(): void {
    if (this.job.signal.aborted) throw new JobCancelledError()
  }

  /** Fails the job now, without retrying. `error` is shown to the job's owner: keep it safe to show. */
  protected failJob({ error }: { error: string }): never {
    throw new JobFailedError(error)
  }
}

/** A QueueService subclass of the contract `C` (any queue's by default), as the worker starts it. */
export type QueueClass<C extends AnyQueueContract = AnyQueueContract> = new (deps: QueueDeps) => QueueService<C>

/**
 * The worker's handler map for a registry: one QueueService class per registered queue, keyed by
 * its name. Declare the map with `satisfies QueueClasses<typeof queues>`: a queue without a
 * handler, or a handler of another queue's contract, is a type error.
 */
export type QueueClasses<R extends { queues: Record<string, AnyQueueContract> }> = {
  [K in keyof R['queues']]: QueueClass<R['queues'][K]>
}
