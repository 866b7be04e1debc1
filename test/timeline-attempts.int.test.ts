/**
 * A job's timeline when an attempt fails part way and the retry runs: each attempt's progress
 * milestones are its own. Written through the same calls the runner makes: claimJobs (claim and
 * mark running), saveProgress, and pg-boss fail with markRetrying.
 */
import { randomUUID } from 'node:crypto'
import { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { withTransaction } from '@/lib/server/db'
import { getTimeline } from '@/lib/server/history'
import { findJob, insertJob, markRetrying, saveProgress } from '@/lib/server/job-store'
import { claimJobs, onConnection, PGBOSS_SCHEMA } from '@/lib/server/pgboss'
import { setupTestDatabase } from '@/test/kit'

const QUEUE = 'exports'
const db = setupTestDatabase({ poolMax: 2 })
let boss: PgBoss

beforeAll(async () => {
  boss = new PgBoss({ connectionString: db.url, schema: PGBOSS_SCHEMA, supervise: false, schedule: false, max: 2 })
  boss.on('error', () => undefined)
  await boss.start()
  await boss.createQueue(QUEUE, { retryLimit: 1, retryDelay: 0 })
})

afterAll(async () => {
  await boss?.stop({ graceful: false, close: true })
})

const at = (current: number) => ({ current, total: 100, message: `${current} of 100` })

/** Claims the one queued job and marks it running, as the runner does; returns its attempt. */
async function claim(id: string) {
  const [claimed] = await claimJobs(boss, db.pool, QUEUE, { count: 1, maxAttempts: 2 })
  expect(claimed?.job.id).toBe(id)
  return claimed!
}

it('a retry starts with no progress, and the timeline shows each attempt only the milestones it reached', async () => {
  const id = randomUUID()
  await withTransaction(db.pool, async (client) => {
    await insertJob(client, { id, queue: QUEUE, ownerId: randomUUID(), payload: {} })
    await boss.send(QUEUE, {}, { id, ...onConnection(client) })
  })
  const first = await claim(id)
  await saveProgress(db.pool, id, 1, at(30))
  await saveProgress(db.pool, id, 1, at(80))
  await boss.fail(QUEUE, first.job, { reason: 'boom' })
  await markRetrying(db.pool, id, 1, { code: 'EXCEPTION', message: 'boom' }, new Date())

  await claim(id)
  // The second attempt has reported nothing yet: its bar starts empty, not at attempt 1's 80 %.
  expect((await findJob(db.pool, id))?.progress).toBeNull()
  await saveProgress(db.pool, id, 2, at(30))
  await saveProgress(db.pool, id, 2, at(55))

  const milestones = (await getTimeline(db.pool, id))
    .filter((e) => e.kind === 'progress')
    .map((e) => ({ attempt: e.attempt, current: (e.data as { current: number }).current }))
  expect(milestones).toEqual([
    { attempt: 1, current: 30 },
    { attempt: 1, current: 80 },
    { attempt: 2, current: 30 },
    { attempt: 2, current: 55 },
  ])
})
