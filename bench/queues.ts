/**
 * The QueueServices the bench runs through the template's real worker (startWorker, QueueRunner).
 * They do no work of their own, so what is measured is the template's overhead.
 */
import { performance } from 'node:perf_hooks'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { z } from 'zod'
import type { JobProgress } from '@/lib/jobs/job'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService, type QueueClass } from '@/workers/queue-service'
import { median } from './report'

/** Queue of no-op jobs, run 10 at a time (the throughput scenario). */
export const NOOP_QUEUE = 'bench_noop'
/** Queue whose handler is whatever the current latency scenario installed with `setProbe`. */
export const PROBE_QUEUE = 'bench_probe'
/** Queue of CPU-bound loops that do or do not report progress per row (the overhead scenario). */
export const OVERHEAD_QUEUE = 'bench_overhead'

const Empty = z.object({})

const noopQueue = defineQueue({ name: NOOP_QUEUE, payload: Empty })

class NoopQueue extends QueueService<typeof noopQueue> {
  readonly contract = noopQueue
  readonly workerCount = 10

  async handleItem(): Promise<null> {
    return null
  }
}

/** What a probe sees of the job it runs in: the QueueService helpers, handed out as plain values. */
export interface ProbeContext {
  jobId: string
  /** `performance.now()` as `handleItem` started, before anything else ran. */
  startedAt: number
  signal: AbortSignal
  reportProgress(progress: JobProgress): void
}

type Probe = (context: ProbeContext) => Promise<unknown>

let probe: Probe | null = null

/** Makes `fn` the handler of every `bench_probe` job until replaced (one scenario at a time). */
export function setProbe(fn: Probe | null): void {
  probe = fn
}

// One attempt: a probe that throws is a bench bug, and a retry would skew the next sample.
const probeQueue = defineQueue({ name: PROBE_QUEUE, payload: Empty, options: { retryLimit: 0 } })

class ProbeQueue extends QueueService<typeof probeQueue> {
  readonly contract = probeQueue
  readonly workerCount = 1

  async handleItem(): Promise<unknown> {
    const startedAt = performance.now()
    if (!probe) throw new Error('no probe installed')
    return probe({
      jobId: this.job.jobId,
      startedAt,
      signal: this.signal,
      reportProgress: (progress) => this.reportProgress(progress),
    })
  }
}

/**
 * Payload of an overhead job: how many rows to loop over, and how to report each one: not at all;
 * `per-row`, the job's bound reporter taken once (`const { reportProgress } = this.job`) and called
 * as `reportProgress(current, total, message)` with a message function made once, the form the
 * docs give for hot loops; `helper`, the same call through `this.reportProgress`, which finds the
 * job through AsyncLocalStorage on every call; or `object`, a whole report object whose message is
 * built on every row.
 */
export const OverheadItem = z.object({
  rows: z.number().int().positive(),
  report: z.enum(['never', 'per-row', 'helper', 'object']),
})
export type OverheadItem = z.infer<typeof OverheadItem>

/**
 * Result of an overhead job: the handler's own wall time; `loopMs`, the loop's time per
 * `YIELD_EVERY` rows (each period from one yield to the next, the yield included) as its median
 * over the job times the number of periods, so the few periods in which the shared machine took
 * the thread away do not decide the figure; and a checksum that keeps the loop alive. What the
 * median also leaves out, being in few periods: the progress timers' work (a write and a few
 * events a second, per interval rather than per row) and garbage collection pauses, which
 * understates the report object's cost (its garbage) but not the per-row form's (none). The wall
 * time keeps both.
 */
export const OverheadResult = z.object({ elapsedMs: z.number(), loopMs: z.number(), checksum: z.number() })
export type OverheadResult = z.infer<typeof OverheadResult>

/** A small, fixed set of city-like rows: formatting them is the per-row work. */
const SAMPLE_ROWS = Array.from({ length: 1024 }, (_, i) => ({
  id: 2_000_000 + i,
  name: `City ${i.toString(36)}`,
  country: ['BR', 'FR', 'JP', 'US'][i % 4]!,
  population: (i * 7919) % 1_000_000,
  latitude: ((i * 37) % 180) - 90 + 0.1234,
  longitude: ((i * 53) % 360) - 180 + 0.5678,
}))

/** Rows between two yields to the event loop, as a streaming handler yields between batches. */
const YIELD_EVERY = 1_000

const overheadQueue = defineQueue({ name: OVERHEAD_QUEUE, payload: OverheadItem, options: { retryLimit: 0 } })

class OverheadQueue extends QueueService<typeof overheadQueue> {
  readonly contract = overheadQueue
  readonly workerCount = 1

  async handleItem({ rows, report }: OverheadItem): Promise<OverheadResult> {
    const started = performance.now()
    let checksum = 0
    const processed = ({ current, total }: { current: number; total: number }) =>
      `Processed ${current} of ${total} rows`
    const { reportProgress } = this.job
    const periods: number[] = []
    let periodStarted = started
    for (let i = 0; i < rows; i++) {
      // Per-row work: one CSV line of a city row, the export's job minus the database.
      const row = SAMPLE_ROWS[i & 1023]!
      const line = `${row.id},${row.name},${row.country},${row.population},${row.latitude},${row.longitude}\r\n`
      checksum = (checksum + line.length) | 0
      // Never reporting pays one comparison and the others two or three: any bias is against them.
      if (report !== 'never') {
        if (report === 'per-row') reportProgress(i + 1, rows, processed)
        else if (report === 'helper') this.reportProgress(i + 1, rows, processed)
        else this.reportProgress({ current: i + 1, total: rows, message: `Processed ${i + 1} of ${rows} rows` })
      }
      // Yield like a handler reading a stream does, so the coalescing timers really run in between.
      if ((i + 1) % YIELD_EVERY === 0) {
        await yieldToEventLoop()
        const now = performance.now()
        periods.push(now - periodStarted)
        periodStarted = now
      }
    }
    const elapsedMs = performance.now() - started
    // Rows after the last yield, if any, are counted at the median period's pace.
    const loopMs = periods.length ? (median(periods) * rows) / YIELD_EVERY : elapsedMs
    return { elapsedMs, loopMs, checksum }
  }
}

/** Every bench queue, for `startWorker({ queues })`. */
export const BENCH_QUEUES: QueueClass[] = [NoopQueue, ProbeQueue, OverheadQueue]

/** Queue of the per-row reporting variant of ExportQueue (bench/export-worker.ts, `progress.overhead.export`). */
export const PER_ROW_EXPORTS_QUEUE = 'exports_per_row'
