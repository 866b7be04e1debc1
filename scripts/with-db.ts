/**
 * Runs a command against a freshly prepared database:
 *   tsx scripts/with-db.ts <database> -- <command...>
 * The database is dropped and recreated on the DATABASE_URL server (or the embedded one), migrated
 * and seeded; the command gets its URL as DATABASE_URL. Used by `npm run test:e2e`.
 */
import { spawn } from 'node:child_process'
import { childProcessEnv } from '../lib/server/env'
import { prepareDatabase } from './database'

const separator = process.argv.indexOf('--')
const database = process.argv[2]
const command = process.argv.slice(separator + 1)
if (separator < 0 || !database || database === '--' || command.length === 0) {
  console.error('usage: tsx scripts/with-db.ts <database> -- <command...>')
  process.exit(2)
}

const db = await prepareDatabase({ purpose: 'test', database, fresh: true, setup: true })
const child = spawn(command[0]!, command.slice(1), {
  stdio: 'inherit',
  env: childProcessEnv({ DATABASE_URL: db.url }),
  shell: false,
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
child.on('exit', async (code, signal) => {
  await db.stop()
  process.exit(code ?? (signal ? 1 : 0))
})
