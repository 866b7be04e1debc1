/**
 * The worker process entry: `npm run worker` (production) or `npm run dev`.
 * Reads the environment, starts every queue in workers/providers.ts (waiting with backoff while the
 * database is unreachable), and stops gracefully on SIGTERM/SIGINT (exit 0).
 * Configure it through environment variables, not here.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { isDatabaseUnavailable } from '@/lib/server/db'
import { workerEnv } from '@/lib/server/env'
import { createLogger } from './logger'
import { providers } from './providers'
import { startWorker, type Worker } from './worker'

const log = createLogger('worker')
const config = workerEnv()
let stopping = false
let worker: Worker | null = null

async function start(): Promise<Worker | null> {
  for (let attempt = 0; !stopping; attempt++) {
    try {
      return await startWorker({
        databaseUrl: config.DATABASE_URL,
        queues: Object.values(providers),
        secret: config.SESSION_SECRET,
        log,
        realtimePort: config.REALTIME_PORT,
        origins: config.APP_ORIGIN,
      })
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      const delay = Math.min(30_000, 1_000 * 2 ** attempt)
      log.warn(`database unavailable (${(err as Error).message}); retrying in ${delay / 1000} s`)
      await sleep(delay)
    }
  }
  return null
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: stopping (running jobs get 10 s to finish)`)
    if (!worker) process.exit(0)
    worker.stop(10_000).then(
      () => process.exit(0),
      (err) => {
        log.error(`stop failed: ${(err as Error).stack}`)
        process.exit(1)
      },
    )
  })
}

worker = await start()
