/**
 * `npm run dev`: database (embedded unless DATABASE_URL), migrations, seed, then Next.js dev and the
 * worker (queues + realtime) side by side with prefixed logs. Ctrl-C stops both, then the database.
 */
import concurrently from 'concurrently'
import { childProcessEnv } from '../lib/server/env'
import { prepareDatabase } from './database'

const db = await prepareDatabase({ purpose: 'dev', database: 'nbj_dev', setup: true, useGivenDatabase: true })
const env = childProcessEnv({ DATABASE_URL: db.url, NEXT_DIST_DIR: '.next-dev' })

const { result, commands } = concurrently(
  [
    { command: 'next dev --turbopack', name: 'web', prefixColor: 'cyan', env },
    { command: 'tsx watch --clear-screen=false workers/main.ts', name: 'worker', prefixColor: 'magenta', env },
  ],
  { killOthersOn: ['failure', 'success'], prefix: 'name', killSignal: 'SIGTERM' },
)

let exiting = false
async function shutdown(code: number) {
  if (exiting) return
  exiting = true
  for (const command of commands) command.kill('SIGTERM')
  await result.catch(() => undefined)
  await db.stop()
  process.exit(code)
}
process.on('SIGINT', () => void shutdown(0))
process.on('SIGTERM', () => void shutdown(0))
result.then(
  () => shutdown(0),
  () => shutdown(1),
)
