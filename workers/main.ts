/**
 * The worker process entry: `npm run worker` (production) or `npm run dev`.
 * Reads the environment, starts every queue in workers/providers.ts, and stops gracefully on
 * SIGTERM/SIGINT (exit 0). Configure it through environment variables, not here.
 */
import { env } from '@/lib/server/env'
import { createLogger } from './logger'
import { providers } from './providers'
import { startWorker } from './worker'

const log = createLogger('worker')
const config = env()

const worker = await startWorker({
  databaseUrl: config.DATABASE_URL,
  queues: providers,
  secret: config.SESSION_SECRET,
  log,
  realtimePort: config.REALTIME_PORT,
  origins: config.APP_ORIGIN.split(',').map((s) => s.trim()).filter(Boolean),
})

let stopping = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: stopping (running jobs get 10 s to finish)`)
    worker.stop(10_000).then(
      () => process.exit(0),
      (err) => {
        log.error(`stop failed: ${(err as Error).stack}`)
        process.exit(1)
      },
    )
  })
}
