/**
 * One attempt's progress: the handler's latest report kept as three plain fields, so reporting on
 * every row allocates nothing; two timers sample it, one to publish (at most every
 * `progressEmitMs`) and one to store (at most every `progressWriteMs`). Cleaning the report
 * (`cleanProgress`) happens only when a timer fires or the attempt settles.
 */
import { PROGRESS_MESSAGE_MAX, type JobProgress } from '@/lib/jobs/job'
import type { ProgressMessage, ProgressReport } from '../queue-service'

/**
 * A progress report made safe to store and show: the message function (if any) called, whole
 * non-negative numbers, and a message that jsonb can hold (no NUL, no lone surrogates) cut on
 * purpose at `PROGRESS_MESSAGE_MAX` characters.
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

/** Where sampled progress goes: the attempt decides how (fenced writes, seq-stamped events). */
export interface ProgressSinks {
  /** Stores the progress in the job's record. */
  write(progress: JobProgress): void
  /** Publishes the progress to the job owner's sockets. */
  emit(progress: JobProgress): void
}

export interface ProgressIntervals {
  /** Most often one job's progress is published, in ms. */
  progressEmitMs: number
  /** Most often one job's progress is written to `app.jobs`, in ms. */
  progressWriteMs: number
}

export class ProgressTracker {
  private current = 0
  private total = 0
  private message: ProgressMessage = ''
  /** Whether anything was reported since the last sample (and whether anything ever was). */
  private changed = false
  private reported = false
  private sampled: JobProgress | null = null
  private emitTimer: NodeJS.Timeout | undefined
  private writeTimer: NodeJS.Timeout | undefined
  private lastEmitAt = 0
  private lastWriteAt = 0
  private closed = false

  constructor(
    private readonly intervals: ProgressIntervals,
    private readonly sinks: ProgressSinks,
  ) {}

  /**
   * The hot path: three field writes and, at most twice per interval, a timer. `total` and
   * `message` keep their last value when omitted.
   */
  report(current: number, total?: number, message?: ProgressMessage): void {
    this.current = current
    if (total !== undefined) this.total = total
    if (message !== undefined) this.message = message
    this.changed = true
    if (this.emitTimer === undefined || this.writeTimer === undefined) this.arm()
  }

  /** The latest report, cleaned; `null` before the first report. */
  latest(): JobProgress | null {
    if (this.changed) {
      this.changed = false
      this.reported = true
      this.sampled = cleanProgress({ current: this.current, total: this.total, message: this.message })
    }
    return this.reported ? this.sampled : null
  }

  /** Stops sampling for good (the attempt is settling) and returns the final progress. */
  close(): JobProgress | null {
    this.closed = true
    clearTimeout(this.emitTimer)
    clearTimeout(this.writeTimer)
    return this.latest()
  }

  get isClosed(): boolean {
    return this.closed
  }

  private arm(): void {
    if (this.closed) return
    const now = Date.now()
    this.emitTimer ??= setTimeout(
      () => {
        this.emitTimer = undefined
        this.lastEmitAt = Date.now()
        const progress = this.latest()
        if (progress && !this.closed) this.sinks.emit(progress)
      },
      Math.max(0, this.lastEmitAt + this.intervals.progressEmitMs - now),
    )
    this.writeTimer ??= setTimeout(
      () => {
        this.writeTimer = undefined
        this.lastWriteAt = Date.now()
        const progress = this.latest()
        if (progress && !this.closed) this.sinks.write(progress)
      },
      Math.max(0, this.lastWriteAt + this.intervals.progressWriteMs - now),
    )
  }
}
