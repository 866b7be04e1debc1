/**
 * Batched starts: a fetched batch is marked running in `app.jobs` with one statement. A job the
 * statement did not mark was cancelled while queued (or settled by an operator): it never runs,
 * and pg-boss records it as cancelled instead of leaving it to expire.
 */
import type pg from 'pg'
import type { Job, PgBoss } from 'pg-boss'
import type { JobSnapshot } from '@/lib/jobs/job'
import { markActiveMany } from '@/lib/server/job-store'
import type { AttemptRef } from '@/lib/server/pgboss'
import type { Logger } from '../logger'

/** A fetched job that may run, with its record as marked running. */
export interface StartedJob {
  job: Job<unknown>
  record: JobSnapshot & { ownerId: string }
}

/** Marks `jobs` of `queue` running; resolves with those that may run (none if the write failed). */
export async function startBatch(
  options: { pool: pg.Pool; boss: PgBoss; queue: string; maxAttempts: number; log: Logger },
  jobs: Job<unknown>[],
): Promise<StartedJob[]> {
  let records: Map<string, JobSnapshot & { ownerId: string }>
  try {
    const attempts = jobs.map((j) => ({ id: j.id, attempt: j.retryCount + 1 }))
    records = await markActiveMany(options.pool, attempts, options.maxAttempts)
  } catch (err) {
    // Not started, not heartbeating: pg-boss retries them after heartbeatSeconds.
    options.log.warn(`could not start ${jobs.length} job(s) of ${options.queue}: ${(err as Error).message}`)
    return []
  }
  const skipped: AttemptRef[] = jobs.filter((j) => !records.has(j.id)).map(({ id, retryCount }) => ({ id, retryCount }))
  if (skipped.length) {
    await options.boss
      .cancel(options.queue, skipped)
      .catch((err) => options.log.warn(`cancel of skipped jobs failed: ${(err as Error).message}`))
  }
  return jobs.flatMap((job) => {
    const record = records.get(job.id)
    return record ? [{ job, record }] : []
  })
}
