/**
 * The fetch loop of one queue. Two modes: while slots are free and every fetch comes back full,
 * it fetches again at once (one query for all free slots); otherwise it sleeps until woken (a job
 * was created, a slot freed) or until the poll interval passes, the backstop for a lost wake-up.
 * A failed fetch backs off (0.5 s doubling to 30 s).
 */
import type { Logger } from '../logger'

/** `T` is what one fetch returns per job (the runner's: a claimed job and its record). */
export interface FetchLoopOptions<T> {
  /** For log lines. */
  queue: string
  /** Slots free right now. */
  freeSlots: () => number
  /** Claims up to `count` jobs. */
  fetch: (count: number) => Promise<T[]>
  /** Starts the fetched jobs; resolves once their slots are taken. */
  start: (jobs: T[]) => Promise<void>
  /** Milliseconds to sleep when nothing wakes the loop. */
  pollIntervalMs: number
  log: Logger
}

export class FetchLoop<T> {
  private stopping = false
  private wakeSleeper: (() => void) | null = null
  private wokenWhileAwake = false
  private loop: Promise<void> | null = null

  constructor(private readonly source: FetchLoopOptions<T>) {}

  start(): void {
    this.loop ??= this.run()
  }

  /** Fetch now instead of at the next poll. */
  wake(): void {
    const wake = this.wakeSleeper
    this.wakeSleeper = null
    // Not sleeping (a fetch is in flight): remember it, so the next sleep returns at once instead
    // of missing a job that arrived during the fetch.
    if (wake) wake()
    else this.wokenWhileAwake = true
  }

  /** Stops fetching; resolves once the fetch in flight (if any) and its starts are done. */
  async stop(): Promise<void> {
    this.stopping = true
    this.wake()
    await this.loop
  }

  private async run(): Promise<void> {
    let failures = 0
    while (!this.stopping) {
      const free = this.source.freeSlots()
      if (free > 0) {
        try {
          const jobs = await this.source.fetch(free)
          failures = 0
          if (jobs.length > 0) await this.source.start(jobs)
          // A full batch means more may be waiting: fetch again as soon as a slot is free.
          if (jobs.length === free) continue
        } catch (err) {
          failures++
          this.source.log.warn(`fetch from ${this.source.queue} failed (${(err as Error).message}); retrying`)
          await this.sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)))
          continue
        }
      }
      await this.sleep(this.source.pollIntervalMs)
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || this.wokenWhileAwake) {
      this.wokenWhileAwake = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeSleeper = null
        resolve()
      }, ms)
      this.wakeSleeper = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
