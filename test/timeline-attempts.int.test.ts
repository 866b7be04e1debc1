/**
 * A job's timeline when an attempt fails part way and the retry runs: each attempt's progress
 * milestones are its own. Written through the same job-store calls the runner makes.
 */
import { randomUUID } from 'node:crypto'
import { expect, it } from 'vitest'
import { getTimeline } from '@/lib/server/history'
import { findJob, insertJob, markActiveMany, markRetrying, saveProgress } from '@/lib/server/job-store'
import { setupTestDatabase } from '@/test/kit'

const db = setupTestDatabase({ poolMax: 2 })

const at = (current: number) => ({ current, total: 100, message: `${current} of 100` })

it('a retry starts with no progress, and the timeline shows each attempt only the milestones it reached', async () => {
  const id = randomUUID()
  await insertJob(db.pool, { id, queue: 'exports', ownerId: randomUUID(), payload: {} })
  await markActiveMany(db.pool, [{ id, attempt: 1 }], 2)
  await saveProgress(db.pool, id, 1, at(30))
  await saveProgress(db.pool, id, 1, at(80))
  await markRetrying(db.pool, id, 1, { code: 'EXCEPTION', message: 'boom' }, new Date())

  await markActiveMany(db.pool, [{ id, attempt: 2 }], 2)
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
