/**
 * `npm run db:migrate` and `npm run db:seed` against DATABASE_URL (or the embedded dev database).
 */
import { prepareDatabase, setUpDatabase } from './database'
import { migrateAll } from '../workers/migrate'
import { createLogger } from '../workers/logger'

const task = process.argv[2]
if (task !== 'migrate' && task !== 'setup') {
  console.error('usage: tsx scripts/db.ts migrate|setup')
  process.exit(2)
}
const db = await prepareDatabase({ purpose: 'dev', database: 'nbj_dev', useGivenDatabase: true })
try {
  if (task === 'migrate') await migrateAll(db.url, createLogger('db'))
  else await setUpDatabase(db.url)
} finally {
  await db.stop()
}
