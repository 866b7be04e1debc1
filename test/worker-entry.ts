/**
 * A worker process for fault-injection tests: workers/main.ts's shape (startWorker, graceful stop
 * on SIGTERM, exit 0) with the queues of test/fault-queues.ts and a grace period from GRACE_MS
 * (default 10000, as in main.ts). Needs DATABASE_URL.
 */
import { createLogger } from '@/workers/logger'
import { startWorker } from '@/workers/worker'
import { faultQueues } from './fault-queues'

const log = createLogger('fault-worker')
const graceMs = Number(process.env.GRACE_MS ?? 10_000)
const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) throw new Error('DATABASE_URL is required')

const worker = await startWorker({
  databaseUrl,
  queues: faultQueues,
  secret: 'fault-worker-secret-fault-worker-secret',
  log,
  realtimePort: null,
  origins: [],
})

let stopping = false
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  log.info(`SIGTERM: stopping (running jobs get ${graceMs} ms to finish)`)
  worker.stop(graceMs).then(
    () => process.exit(0),
    (err) => {
      log.error(`stop failed: ${(err as Error).stack}`)
      process.exit(1)
    },
  )
})
