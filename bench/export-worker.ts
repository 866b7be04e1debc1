/**
 * A worker process that runs only the real ExportQueue, compiled and started by bench/export.ts with `fork`, so
 * its resident memory is the worker's alone (not the bench's sockets, baselines and buffers).
 * Samples its RSS every 50 ms and answers the parent over IPC; exits when told to stop.
 */
import { randomBytes } from 'node:crypto'
import { exportsQueue } from '@/lib/jobs/exports'
import { ExportQueue } from '@/workers/queues/export-queue'
import { startWorker } from '@/workers/worker'
import { PER_ROW_EXPORTS_QUEUE } from './queues'

/** Parent to child. */
export type ExportWorkerRequest = { type: 'reset-peak' } | { type: 'read-rss' } | { type: 'stop' }
/** Child to parent: sent once started, then once per request. */
export type ExportWorkerReply =
  | { type: 'ready'; rssMb: number }
  | { type: 'rss'; rssMb: number; peakMb: number; atPeak: MemoryAtPeak }
  | { type: 'stopped' }

/** Where the memory was at the highest RSS sample, in MB: tells a leak from a lazy garbage collector. */
export interface MemoryAtPeak {
  heapUsedMb: number
  heapTotalMb: number
  externalMb: number
}

/** Milliseconds between two RSS samples. */
const SAMPLE_MS = 50

const url = process.env.BENCH_DATABASE_URL
if (!url || !process.send)
  throw new Error('bench/export-worker.ts is started by bench/export.ts (fork with BENCH_DATABASE_URL)')
const send = (reply: ExportWorkerReply) => process.send!(reply)
const mb = (bytes: number) => bytes / (1024 * 1024)

// Warnings and errors only: the bench prints its own progress.
const log = {
  info: () => undefined,
  warn: (m: string) => console.warn(`[export-worker] ${m}`),
  error: (m: string) => console.error(`[export-worker] ${m}`),
}
/** The same export, reporting progress (and checking for cancellation) on every row. */
class PerRowExportQueue extends ExportQueue {
  readonly contract = { ...exportsQueue, name: PER_ROW_EXPORTS_QUEUE }
  protected readonly progressEveryRows = 1
}

const worker = await startWorker({
  databaseUrl: url,
  queues: [ExportQueue, PerRowExportQueue],
  secret: randomBytes(32).toString('hex'),
  log,
  realtimePort: null,
  origins: [],
})

let peak = 0
let atPeak: MemoryAtPeak = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0 }
const sample = () => {
  const usage = process.memoryUsage()
  if (usage.rss > peak) {
    peak = usage.rss
    atPeak = { heapUsedMb: mb(usage.heapUsed), heapTotalMb: mb(usage.heapTotal), externalMb: mb(usage.external) }
  }
  return usage.rss
}
sample()
const sampler = setInterval(sample, SAMPLE_MS)

process.on('message', (request: ExportWorkerRequest) => {
  if (request.type === 'reset-peak') peak = 0
  const rss = sample()
  if (request.type !== 'stop') return send({ type: 'rss', rssMb: mb(rss), peakMb: mb(peak), atPeak })
  clearInterval(sampler)
  worker.stop(5_000).then(
    () => {
      send({ type: 'stopped' })
      process.disconnect()
    },
    (err) => {
      console.error(`[export-worker] stop failed: ${(err as Error).message}`)
      process.exit(1)
    },
  )
})

send({ type: 'ready', rssMb: mb(peak) })
