/**
 * A worker process for fault-injection tests: workers/main.ts's shape (startWorker, graceful stop
 * on SIGTERM, exit 0) with a grace period from GRACE_MS (default 10000, as in main.ts). Needs
 * DATABASE_URL. WORKER_QUEUES picks what it runs: `fault` (default, test/fault-queues.ts),
 * `remote` (test/remote-queue.ts) or `none` (a realtime-only process). REALTIME_PORT serves
 * sockets (default: headless), for browsers of APP_ORIGIN (comma-separated). PROGRESS_WRITE_MS
 * and PROGRESS_EMIT_MS override the runner's progress timing.
 */
import { OriginList } from '@/lib/server/env'
import type { QueueClass } from '@/workers/queue-service'
import { createLogger } from '@/workers/logger'
import { startWorker } from '@/workers/worker'
import { FAULT_WORKER_SECRET, faultQueues } from './fault-queues'
import { RemoteQueue } from './remote-queue'

const log = createLogger('fault-worker')
const graceMs = Number(process.env.GRACE_MS ?? 10_000)
const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) throw new Error('DATABASE_URL is required')

const queueSets: Record<string, QueueClass[]> = {
  fault: faultQueues,
  remote: [RemoteQueue],
  none: [],
}
const queues = queueSets[process.env.WORKER_QUEUES ?? 'fault']
if (!queues) throw new Error(`WORKER_QUEUES must be one of ${Object.keys(queueSets).join(', ')}`)

// Installed before the worker starts: "worker running queues" is printed before startWorker
// returns, and a SIGTERM in between would otherwise end the process by the default action.
let stopping = false
const started = startWorker({
  databaseUrl,
  queues,
  secret: FAULT_WORKER_SECRET,
  log,
  realtimePort: process.env.REALTIME_PORT ? Number(process.env.REALTIME_PORT) : null,
  // Parsed as the real worker parses it (lib/server/env.ts), so a bad entry fails here too.
  origins: process.env.APP_ORIGIN ? OriginList.parse(process.env.APP_ORIGIN) : [],
  timing: {
    ...(process.env.PROGRESS_WRITE_MS && { progressWriteMs: Number(process.env.PROGRESS_WRITE_MS) }),
    ...(process.env.PROGRESS_EMIT_MS && { progressEmitMs: Number(process.env.PROGRESS_EMIT_MS) }),
  },
})
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  log.info(`SIGTERM: stopping (running jobs get ${graceMs} ms to finish)`)
  started
    .then((worker) => worker.stop(graceMs))
    .then(
      () => process.exit(0),
      (err) => {
        log.error(`stop failed: ${(err as Error).stack}`)
        process.exit(1)
      },
    )
})
await started
