/** Timing knobs of a runner, in milliseconds. */
export interface RunnerTiming {
  /** Fetch at least this often when no wake-up arrives (a lost notification only costs latency). Default 2000. */
  pollIntervalMs: number
  /** Most often one job's progress is written to `app.jobs`. Default 1000. */
  progressWriteMs: number
  /**
   * Most often one job's progress is published to sockets. Default 200: at most 5 events a second per
   * job, each costing two statements (a sequence bump and the adapter's NOTIFY).
   */
  progressEmitMs: number
}

export const DEFAULT_RUNNER_TIMING: RunnerTiming = { pollIntervalMs: 2000, progressWriteMs: 1000, progressEmitMs: 200 }
