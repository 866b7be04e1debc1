/**
 * The base class of every queue. Subclass it, give it a `name`, an `itemSchema` and
 * `handleItem(item)`, and register it in workers/providers.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type pg from 'pg'
import type { z } from 'zod'

/**
 * Per-queue options, passed to pg-boss `createQueue` by the worker (the worker owns them:
 * `createQueue` is first-writer-wins). Units are seconds, as in pg-boss.
 */
export interface QueueOptions {
  /** Retries after a thrown exception (pg-boss `retryLimit`). `failJob` never retries. Default 2. */
  retryLimit?: number
  /** Seconds before the first retry (pg-boss `retryDelay`). Default 5. */
  retryDelay?: number
  /** Double the delay on each retry, with jitter (pg-boss `retryBackoff`). Default true. */
  retryBackoff?: boolean
  /** Seconds an attempt may run before pg-boss expires it (pg-boss `expireInSeconds`). Default 900. */
  expireInSeconds?: number
  /**
   * Seconds without a heartbeat after which pg-boss treats the attempt as lost and retries it
   * (pg-boss `heartbeatSeconds`, at least 10). The runner sends one every half interval. Default 20.
   */
  heartbeatSeconds?: number
  /**
   * Seconds a handler may keep running after its owner cancelled (its signal is aborted at once).
   * Past this the job is settled as cancelled anyway and whatever the handler returns is discarded.
   * Default 30.
   */
  cancelGraceSeconds?: number
}

/** Defaults applied to every queue's `options`. */
export const DEFAULT_QUEUE_OPTIONS: Required<QueueOptions> = {
  retryLimit: 2,
  retryDelay: 5,
  retryBackoff: true,
  expireInSeconds: 900,
  heartbeatSeconds: 20,
  cancelGraceSeconds: 30,
}

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
  /** See `QueueService.reportProgress`. */
  reportProgress(progress: ProgressReport): void
  reportProgress(current: number, total?: number, message?: ProgressMessage): void
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
 * A queue of jobs of one kind. `workerCount` jobs run at once in each worker process; the
 * per-job helpers (`reportProgress`, `checkCancelled`, `failJob`, `job`) resolve to the job whose
 * `handleItem` is calling them, through AsyncLocalStorage, even when several run concurrently.
 *
 * @typeParam Item - the job payload after `itemSchema` parsed it.
 * @typeParam Result - what `handleItem` returns; stored as the job's result (must be JSON).
 */
export abstract class QueueService<Item, Result> {
  /** Queue name: a short noun such as `exports`. */
  abstract readonly name: string
  /** Jobs of this queue one worker process runs at once. Default 1. */
  readonly workerCount: number = 1
  /** Options for pg-boss; see `QueueOptions` for defaults. */
  readonly options: QueueOptions = {}
  /** Parses every payload before `handleItem` sees it: queued jobs outlive deploys. */
  abstract readonly itemSchema: z.ZodType<Item>

  constructor(protected readonly deps: QueueDeps) {}

  /** Does the work of one job. Throwing fails the attempt (retried per `options`). */
  abstract handleItem(item: Item): Promise<Result>

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
   * final state. So calling it on every row costs tens of nanoseconds. Numbers are stored whole
   * and non-negative; the message is cut at 500 characters (`PROGRESS_MESSAGE_MAX`).
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

/** A QueueService subclass, as registered in the providers map. */
export type QueueClass = new (deps: QueueDeps) => QueueService<unknown, unknown>
