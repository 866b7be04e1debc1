/**
 * A job cancelled while queued never starts, also when its worker was stopped at the time: the
 * cancel is only a row in app.jobs (the web tier never touches pg-boss), so the restarted worker
 * still fetches the pg-boss job, and must skip it and close it in pg-boss.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { enqueueJob } from '@/lib/server/enqueue'
import { findJob, requestCancel } from '@/lib/server/job-store'
import { setupTestDatabase, waitForJob } from './kit'
import { startWorkerProcess, stopAll, stopProcess } from './processes'

const owner = 'dededede-dede-4ede-8ede-dededededede'

const db = setupTestDatabase()

afterAll(async () => {
  await stopAll()
})

describe('a worker restart', () => {
  it('never starts a job its owner cancelled while the worker was stopped', { timeout: 120_000 }, async () => {
    const first = await startWorkerProcess(db.url, 'worker-1')
    expect(await stopProcess(first, 'SIGTERM')).toEqual({ code: 0, signal: null })

    const cancelled = await enqueueJob(db.pool, { queue: 'fault-final', ownerId: owner, payload: { workMs: 0 } })
    const outcome = await requestCancel(db.pool, cancelled.id, owner)
    expect(outcome.kind).toBe('cancelled')
    const atCancel = (await findJob(db.pool, cancelled.id))!
    // Queued after it on the same queue: once this one ran, the cancelled one was fetched too.
    const later = await enqueueJob(db.pool, { queue: 'fault-final', ownerId: owner, payload: { workMs: 0 } })

    const second = await startWorkerProcess(db.url, 'worker-2')
    await waitForJob(db.url, later.id, 'completed', 60_000)
    await second.waitForLine(new RegExp(`finished ${later.id}`))

    expect(second.stdout()).not.toContain(cancelled.id)
    // Its record did not change at all after the cancel (no attempt, no start)...
    expect(await findJob(db.pool, cancelled.id)).toEqual(atCancel)
    expect(atCancel).toMatchObject({ state: 'cancelled', attempt: 0, startedAt: null, cancelledBy: 'owner' })
    // ...and pg-boss holds it as cancelled, so no later worker fetches it again.
    const { rows } = await db.pool.query<{ state: string }>(
      'SELECT state FROM pgboss.job WHERE name = $1 AND id = $2',
      ['fault-final', cancelled.id],
    )
    expect(rows[0]?.state).toBe('cancelled')
    expect(await stopProcess(second, 'SIGTERM')).toEqual({ code: 0, signal: null })
  })
})
