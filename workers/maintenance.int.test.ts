import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { IMPORTS_QUEUE } from '@/lib/jobs/imports'
import { setupTestDatabase } from '@/test/kit'
import { runRetention } from './maintenance'

// No worker here: its reconcile would settle the hand-made records below (they have no pg-boss job).
const db = setupTestDatabase()
const owner = `user-${randomUUID()}`
const policy = { fileHours: 24, jobDays: 30 }

async function upload(ageHours: number): Promise<string> {
  const id = randomUUID()
  await db.pool.query(
    `INSERT INTO app.uploads (id, owner_id, file_name, bytes, created_at)
     VALUES ($1, $2, 'cities.csv', 3, now() - make_interval(hours => $3))`,
    [id, owner, ageHours],
  )
  return id
}

async function importJob(uploadId: string, state: 'queued' | 'active' | 'failed'): Promise<string> {
  const id = randomUUID()
  await db.pool.query(
    `INSERT INTO app.jobs (id, queue, owner_id, payload, state, settled_at)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'failed' THEN now() END)`,
    [id, IMPORTS_QUEUE, owner, { uploadId, fileName: 'cities.csv', bytes: 3 }, state],
  )
  return id
}

async function uploadsLeft(ids: string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM app.uploads WHERE id = ANY($1::uuid[])', [ids])
  return rows.map((r) => r.id).sort()
}

describe('upload retention', () => {
  it('keeps an old upload while its import waits or runs, and deletes it once nothing will read it', async () => {
    const fresh = await upload(1)
    const abandoned = await upload(48)
    const waiting = await upload(48)
    const running = await upload(48)
    const failed = await upload(48)
    const waitingJob = await importJob(waiting, 'queued')
    await importJob(running, 'active')
    await importJob(failed, 'failed')

    await runRetention(db.pool, policy)
    expect(await uploadsLeft([fresh, abandoned, waiting, running, failed])).toEqual([fresh, waiting, running].sort())

    // The waiting import failed for good: its upload is a leftover now.
    await db.pool.query(`UPDATE app.jobs SET state = 'failed', settled_at = now() WHERE id = $1`, [waitingJob])
    await runRetention(db.pool, policy)
    expect(await uploadsLeft([fresh, waiting, running])).toEqual([fresh, running].sort())
  })
})
