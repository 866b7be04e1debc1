/**
 * The pg-boss internals the template relies on (lib/server/pgboss.ts), checked against the
 * installed pg-boss. When a pg-boss upgrade moves one of them, this file fails and names it.
 */
import { randomUUID } from 'node:crypto'
import { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupTestDatabase } from '@/test/kit'
import { withTransaction } from './db'
import {
  affectedCount,
  backdateHeartbeat,
  bossJobState,
  countBossJobs,
  onConnection,
  PGBOSS_SCHEMA,
  reconcileLostJobs,
  stuckJobs,
  touchAttempts,
} from './pgboss'

const QUEUE = 'door'
const db = setupTestDatabase({ poolMax: 4 })
let boss: PgBoss

beforeAll(async () => {
  boss = new PgBoss({ connectionString: db.url, schema: PGBOSS_SCHEMA, supervise: false, schedule: false, max: 2 })
  boss.on('error', () => undefined)
  await boss.start()
  await boss.createQueue(QUEUE, { retryLimit: 1, retryDelay: 0, heartbeatSeconds: 10 })
})

afterAll(async () => {
  await boss?.stop({ graceful: false, close: true })
})

/** Sends one job and claims it: its attempt as `touch`, `fail` and `complete` take it. */
async function claimOne(): Promise<{ id: string; retryCount: number }> {
  const id = await boss.send(QUEUE, {})
  const [job] = await boss.fetch(QUEUE)
  expect(job?.id).toBe(id)
  return { id: job!.id, retryCount: job!.retryCount }
}

describe('pg-boss internals the template relies on', () => {
  it('keeps its jobs in <schema>.job with the columns and states our queries read', async () => {
    const { rows } = await db.pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'job'`,
      [PGBOSS_SCHEMA],
    )
    expect(rows.map((r) => r.column_name)).toEqual(
      expect.arrayContaining([
        'id',
        'name',
        'state',
        'retry_count',
        'start_after',
        'started_on',
        'heartbeat_on',
        'heartbeat_seconds',
      ]),
    )
    const states = await db.pool.query<{ state: string }>(
      `SELECT unnest(enum_range(NULL::${PGBOSS_SCHEMA}.job_state))::text AS state`,
    )
    expect(states.rows.map((r) => r.state)).toEqual(
      expect.arrayContaining(['created', 'retry', 'active', 'completed', 'failed', 'cancelled']),
    )
    // The queries that read it run (an empty app.jobs changes nothing, finds nothing).
    await expect(reconcileLostJobs(db.pool, [])).resolves.toBe(0)
    await expect(stuckJobs(db.pool)).resolves.toEqual([])
  })

  it('runs its statements on our connection, inside our transaction, through onConnection', async () => {
    const id = randomUUID()
    await expect(
      withTransaction(db.pool, async (client) => {
        await boss.send(QUEUE, {}, { id, ...onConnection(client) })
        expect(await bossJobState(client, QUEUE, id)).toBe('created')
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    expect(await bossJobState(db.pool, QUEUE, id)).toBeNull()
  })

  it('answers touch with the ids it still counts as active attempts', async () => {
    const attempt = await claimOne()
    expect(await touchAttempts(boss, QUEUE, [attempt])).toEqual(new Set([attempt.id]))
    // A heartbeat an hour old is what stuckJobs looks for; touch refreshes it.
    await backdateHeartbeat(db.pool, QUEUE, attempt.id, 3600)
    const { rows } = await db.pool.query<{ stale: boolean }>(
      `SELECT heartbeat_on < now() - interval '59 minutes' AS stale FROM ${PGBOSS_SCHEMA}.job WHERE id = $1`,
      [attempt.id],
    )
    expect(rows[0]?.stale).toBe(true)
    // A stale attempt (an earlier retryCount) is not ours any more.
    expect(await touchAttempts(boss, QUEUE, [{ id: attempt.id, retryCount: attempt.retryCount + 1 }])).toEqual(
      new Set(),
    )
    await boss.complete(QUEUE, attempt)
    expect(await touchAttempts(boss, QUEUE, [attempt])).toEqual(new Set())
    expect(await bossJobState(db.pool, QUEUE, attempt.id)).toBe('completed')
  })

  it('reports how many jobs a command changed as a numeric affected', async () => {
    const attempt = await claimOne()
    await boss.fail(QUEUE, attempt, { reason: 'test' })
    expect(await bossJobState(db.pool, QUEUE, attempt.id)).toBe('retry')
    expect(affectedCount(await boss.cancel(QUEUE, attempt.id))).toBe(1)
    expect(affectedCount(await boss.retry(QUEUE, attempt.id))).toBe(0)
    expect(affectedCount(await boss.resume(QUEUE, attempt.id))).toBe(1)
    expect(await countBossJobs(boss.getDb(), QUEUE, ['created', 'retry'])).toBeGreaterThanOrEqual(1)
  })
})
