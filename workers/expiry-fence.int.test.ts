/**
 * Expiry fences a handler that ignores its abort: the attempt is settled without it a second after
 * `expireInSeconds`, its retry runs (here, in the same worker, beside it), and everything the late
 * handler writes afterwards (progress, file parts, its result) is discarded, so the job ends with
 * the retry's result and exactly one file: the retry's.
 */
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineQueue } from '@/lib/jobs/queue'
import { enqueueJob } from '@/lib/server/enqueue'
import { createFileWriter, isLateAttemptWrite, PART_BYTES, readFile } from '@/lib/server/file-store'
import { findJob } from '@/lib/server/job-store'
import { setupJobWatch } from '@/test/job-watch'
import { setupTestDatabase, setupTestWorker } from '@/test/kit'
import { QueueService } from './queue-service'

const Item = z.object({})

/** What the first attempt saw and did, filled in as it runs. */
const firstAttempt = {
  reasonAtEnd: undefined as unknown,
  lateWriteError: undefined as unknown,
  ended: Promise.withResolvers<void>(),
}

/** The retry's whole file. */
const RETRY_FILE = 'id,name\r\n2,written by attempt 2\r\n'

/**
 * Attempt 1 stores a first file part, then works for 5 s without ever looking at its signal
 * (expireInSeconds is 2), then reports progress, writes the rest of its file and returns. The
 * retry writes a small file and returns at once.
 */
const stubbornQueue = defineQueue({
  name: 'stubborn',
  payload: Item,
  result: z.strictObject({ attempt: z.number().int() }),
  options: { expireInSeconds: 2, retryLimit: 1, retryDelay: 0, retryBackoff: false, heartbeatSeconds: 10 },
})

class StubbornQueue extends QueueService<typeof stubbornQueue> {
  readonly contract = stubbornQueue
  readonly workerCount = 2

  async handleItem() {
    const { jobId, attempt } = this.job
    const file = createFileWriter(this.deps.pool, jobId, attempt)
    if (attempt > 1) {
      this.reportProgress({ current: 1, total: 1, message: 'attempt 2 done' })
      file.end(Buffer.from(RETRY_FILE))
      await finished(file)
      return { attempt }
    }
    try {
      this.reportProgress(0, 100, 'attempt 1 working')
      if (!file.write(Buffer.alloc(PART_BYTES, 'a'))) await once(file, 'drain')
      await sleep(5_000)
      this.reportProgress(99, 100, 'attempt 1, late')
      file.end(Buffer.from('tail of attempt 1'))
      await finished(file).catch((err: unknown) => {
        firstAttempt.lateWriteError = err
      })
      return { attempt }
    } finally {
      firstAttempt.reasonAtEnd = this.signal.reason
      firstAttempt.ended.resolve()
    }
  }
}

const db = setupTestDatabase()
const watch = setupJobWatch(db)
setupTestWorker(db, [StubbornQueue])
const owner = '77777777-7777-4777-8777-777777777777'

describe('a handler that never looks at its signal past expireInSeconds', () => {
  it('is settled without it, its retry completes, and nothing it writes later reaches the job or its file', async () => {
    const job = await enqueueJob(db.pool, { queue: 'stubborn', ownerId: owner, payload: {} })
    const done = await watch.next(job.id, (s) => s.state === 'completed' || s.state === 'failed', 20_000)
    expect(done.snapshot).toMatchObject({ state: 'completed', attempt: 2, result: { attempt: 2 } })

    // Between the attempts the owner saw it expire and wait for its retry.
    const between = watch
      .seen(job.id)
      .map((s) => s.snapshot)
      .find((s) => s.state === 'queued' && s.attempt === 1)
    expect(between?.error).toMatchObject({ code: 'EXPIRED' })

    // The first handler is still running; once it is done, nothing it did after losing the job stuck.
    await firstAttempt.ended.promise
    expect(firstAttempt.reasonAtEnd).toBe('expired')
    expect(isLateAttemptWrite(firstAttempt.lateWriteError)).toBe(true)
    // Its progress stopped being sampled when it was settled without it, and its result was
    // discarded as it returned: nothing of it can reach the database after this point.
    const record = await findJob(db.pool, job.id)
    expect(record).toMatchObject({
      state: 'completed',
      attempt: 2,
      result: { attempt: 2 },
      progress: { current: 1, total: 1, message: 'attempt 2 done' },
    })
    const late = watch.seen(job.id).filter((s) => s.snapshot.progress?.message === 'attempt 1, late')
    expect(late).toEqual([])
    const afterRetryStarted = watch
      .seen(job.id)
      .map((s) => s.snapshot)
      .filter((s, i, all) => all.findIndex((x) => x.attempt === 2) <= i)
    expect(afterRetryStarted.every((s) => s.attempt === 2)).toBe(true)

    // Exactly one file, the retry's: attempt 1's first part is gone, its tail never stored.
    const parts = await db.pool.query<{ attempt: number }>(
      'SELECT attempt FROM app.job_file_parts WHERE job_id = $1 ORDER BY part',
      [job.id],
    )
    expect(parts.rows.map((r) => r.attempt)).toEqual([2])
    expect(Buffer.from(await new Response(readFile(db.pool, job.id)).arrayBuffer()).toString()).toBe(RETRY_FILE)
  })

  it('has a schema that refuses a file part from an attempt that does not own the job', async () => {
    // A record no worker runs (its queue has no runner), moved through its states by hand.
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO app.jobs (id, queue, owner_id, payload) VALUES (gen_random_uuid(), 'not-run', $1, '{}') RETURNING id`,
      [owner],
    )
    const id = rows[0]!.id
    const write = (part: number, attempt: number) =>
      db.pool.query(`INSERT INTO app.job_file_parts (job_id, part, data, attempt) VALUES ($1, $2, 'x', $3)`, [
        id,
        part,
        attempt,
      ])
    // Queued: no attempt owns it.
    await expect(write(0, 1)).rejects.toSatisfy(isLateAttemptWrite)
    await db.pool.query(`UPDATE app.jobs SET state = 'active', attempt = 1 WHERE id = $1`, [id])
    await write(0, 1)
    await expect(write(1, 2)).rejects.toSatisfy(isLateAttemptWrite)
    await db.pool.query(`UPDATE app.jobs SET attempt = 2 WHERE id = $1`, [id])
    await expect(write(1, 1)).rejects.toSatisfy(isLateAttemptWrite)
    // The owning attempt's first part replaces the earlier attempt's file.
    await write(0, 2)
    const parts = await db.pool.query('SELECT part, attempt FROM app.job_file_parts WHERE job_id = $1', [id])
    expect(parts.rows).toEqual([{ part: 0, attempt: 2 }])
    await db.pool.query(`UPDATE app.jobs SET state = 'cancelled', settled_at = now() WHERE id = $1`, [id])
    await expect(write(1, 2)).rejects.toSatisfy(isLateAttemptWrite)
  })
})
