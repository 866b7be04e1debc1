/**
 * Nothing stays queued forever: pg-boss never deletes a job we still show as waiting (its
 * retention is set past any job's life), and a record whose pg-boss job is gone anyway (deleted by
 * hand, a lost insert) is settled as failed with JOB_LOST, frees its owner's limit and is listed
 * for operators.
 */
import { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineQueue, type QueueContract } from '@/lib/jobs/queue'
import { enqueueJob } from '@/lib/server/enqueue'
import { countUnsettledForOwner } from '@/lib/server/job-store'
import { stuckJobs } from '@/lib/server/operator-jobs'
import { PGBOSS_SCHEMA } from '@/lib/server/pgboss'
import { QueueService } from '@/workers/queue-service'
import { setupTestDatabase, setupTestWorker, waitForJob } from './kit'

class NoopQueue extends QueueService<QueueContract<z.ZodObject<Record<string, never>>>> {
  readonly contract = defineQueue({ name: 'noop', payload: z.strictObject({}) })
  readonly workerCount = 1
  async handleItem() {
    return null
  }
}

/** A queue no worker runs here, so its jobs wait like jobs of a queue whose workers are all down. */
const PARKED = 'parked'
const owner = '99999999-9999-4999-8999-999999999999'

const db = setupTestDatabase()
const worker = setupTestWorker(db, [NoopQueue], { reconcileMs: 1_000 })
let boss: PgBoss

beforeAll(async () => {
  boss = new PgBoss({ connectionString: db.url, schema: PGBOSS_SCHEMA, supervise: false, schedule: false, max: 2 })
  await boss.start()
  await boss.createQueue(PARKED)
})

afterAll(async () => {
  await boss?.stop({ graceful: false, close: true })
})

describe('a job whose pg-boss job is gone', () => {
  it('pg-boss never deletes a job of our queues while it waits', async () => {
    expect((await worker.boss.getQueue('noop'))?.retentionSeconds).toBeGreaterThanOrEqual(10 * 365 * 86_400)
  })

  it(
    'is settled as failed (JOB_LOST) instead of "Waiting for a worker…" forever, frees the limit, and is listed for operators',
    { timeout: 60_000 },
    async () => {
      const waiting = await enqueueJob(db.pool, { queue: PARKED, ownerId: owner, payload: {} })
      expect(waiting.state).toBe('queued')
      expect(await countUnsettledForOwner(db.pool, owner, PARKED)).toBe(1)

      // A manual delete, as pg-boss's retention would do it.
      const { rowCount } = await db.pool.query(`DELETE FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND id = $2`, [
        PARKED,
        waiting.id,
      ])
      expect(rowCount).toBe(1)

      const settled = await waitForJob(db.url, waiting.id, ['failed', 'completed', 'cancelled'])
      expect(settled).toMatchObject({
        state: 'failed',
        error: { code: 'JOB_LOST', message: expect.stringMatching(/lost by the queue/) },
        settledAt: expect.any(String),
      })
      expect(await countUnsettledForOwner(db.pool, owner, PARKED)).toBe(0)
      expect((await stuckJobs(db.pool)).map((j) => j.id)).toContain(waiting.id)
    },
  )

  it('a job whose pg-boss job still exists keeps waiting', { timeout: 30_000 }, async () => {
    const waiting = await enqueueJob(db.pool, { queue: PARKED, ownerId: owner, payload: {} })
    // The reconciler run that settles `other` (created later) has looked at `waiting` too.
    const other = await enqueueJob(db.pool, { queue: PARKED, ownerId: owner, payload: {} })
    await db.pool.query(`DELETE FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND id = $2`, [PARKED, other.id])
    await waitForJob(db.url, other.id, 'failed')
    const { rows } = await db.pool.query<{ state: string }>('SELECT state FROM app.jobs WHERE id = $1', [waiting.id])
    expect(rows[0]?.state).toBe('queued')
  })
})
