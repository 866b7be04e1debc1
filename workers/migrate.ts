/**
 * Database migrations, owned by the worker tier: ours (SQL files in workers/migrations, applied by
 * node-pg-migrate under an advisory lock) and pg-boss's own schema. Run by the worker at boot and
 * by `npm run db:migrate`.
 */
import { runner } from 'node-pg-migrate'
import { fileURLToPath } from 'node:url'
import { PgBoss } from 'pg-boss'
import { PGBOSS_SCHEMA } from '@/lib/server/pgboss'
import type { Logger } from './logger'
import { carryOverMigrationsBeforeSplit } from './migrations-before-split'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url))

/**
 * Applies pending migrations of `app.*`, after carrying a database migrated before the migrations
 * were split by concern over to the split files (`carryOverMigrationsBeforeSplit`). Concurrent
 * callers wait for each other (advisory lock).
 */
export async function migrateApp(databaseUrl: string, log: Logger): Promise<void> {
  if ((await carryOverMigrationsBeforeSplit(databaseUrl)) === 'carried-over')
    log.info('carried the migrations from before the split by concern over to the files that replaced them')
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: 'migrations',
    migrationsSchema: 'app',
    createMigrationsSchema: true,
    direction: 'up',
    count: Infinity,
    advisoryLockMode: 'wait',
    checkOrder: true,
    log: () => undefined,
  })
  if (applied.length > 0) log.info(`applied migrations: ${applied.map((m) => m.name).join(', ')}`)
}

/** Installs or upgrades pg-boss's schema, then stops (the worker's own instance migrates too). */
export async function migratePgBoss(databaseUrl: string): Promise<void> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: PGBOSS_SCHEMA,
    supervise: false,
    schedule: false,
    registerInstance: false,
    max: 2,
  })
  boss.on('error', () => undefined)
  await boss.start()
  await boss.stop({ graceful: false, close: true })
}

/** Both of the above, for `npm run db:migrate`. */
export async function migrateAll(databaseUrl: string, log: Logger): Promise<void> {
  await migrateApp(databaseUrl, log)
  await migratePgBoss(databaseUrl)
}
