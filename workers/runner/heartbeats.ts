/**
 * Heartbeats of one queue (pg-boss `heartbeatSeconds`): one timer that, every half interval,
 * touches all of the queue's running attempts in one statement. A worker that stops sending them
 * is counted as lost by pg-boss's monitor and its attempts are retried elsewhere; an attempt the
 * touch no longer finds active (pg-boss expired it, or counted this worker lost during an outage)
 * is reported lost, so its handler stops: two attempts of one job must never run at once.
 */
import type { Logger } from '../logger'
import type { AttemptRef } from '@/lib/server/pgboss'

export interface HeartbeatsOptions {
  /** Milliseconds between two touches. */
  intervalMs: number
  /** The attempts to keep alive right now. */
  running: () => AttemptRef[]
  /** Touches `attempts` in one statement; resolves with the ids pg-boss still counts as running. */
  touch: (attempts: AttemptRef[]) => Promise<Set<string>>
  /** Called for an attempt pg-boss no longer counts as this worker's. */
  onLost: (attempt: AttemptRef) => void
  log: Logger
}

export class Heartbeats {
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: HeartbeatsOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.beat(), this.options.intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async beat(): Promise<void> {
    const attempts = this.options.running()
    if (attempts.length === 0) return
    try {
      const held = await this.options.touch(attempts)
      for (const attempt of attempts) if (!held.has(attempt.id)) this.options.onLost(attempt)
    } catch (err) {
      // Missing one beat is harmless: the interval is half of what pg-boss waits for.
      this.options.log.warn(`heartbeat for ${attempts.length} job(s) failed: ${(err as Error).message}`)
    }
  }
}
