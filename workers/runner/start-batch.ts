/**
 * Starting a claimed batch. The claim itself marked each job running in `app.jobs`
 * (lib/server/pgboss.ts `claimJobs`); a job it could not mark was cancelled while queued (or
 * settled by an operator): it never runs, and pg-boss records it as cancelled instead of leaving
 * it to expire.
 */
import type { Job, PgBoss } from 'pg-boss'
import type { RunningRecord } from '@/lib/server/job-store'
import type { AttemptRef, ClaimedJob } from '@/lib/server/pgboss'
import type { Logger } from '../logger'

/** A claimed job that may run, with its record as marked running. */
export interface StartedJob {
  job: Job<unknown>
  record: RunningRecord
}

/** Returns the claimed jobs of `queue` that may run; cancels the rest in pg-boss. */
export async function startBatch(
  options: { boss: PgBoss; queue: string; log: Logger },
  claimed: ClaimedJob[],
): Promise<StartedJob[]> {
  const skipped: AttemptRef[] = claimed
    .filter((c) => c.record === null)
    .map(({ job: { id, retryCount } }) => ({ id, retryCount }))
  if (skipped.length) {
    await options.boss
      .cancel(options.queue, skipped)
      .catch((err) => options.log.warn(`cancel of skipped jobs failed: ${(err as Error).message}`))
  }
  return claimed.flatMap(({ job, record }) => (record ? [{ job, record }] : []))
}
