/**
 * Our own retention, independent of pg-boss's cleanup: a pg-boss schedule (cron, every 15 minutes,
 * one run per tick across all workers) deletes export files and unclaimed uploads past
 * EXPORT_FILE_TTL_HOURS (default 24) and settled jobs, with their timelines and emails, past
 * JOB_RETENTION_DAYS (default 30).
 */
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { IMPORTS_QUEUE } from '@/lib/jobs/imports'
import { workerEnv } from '@/lib/server/env'
import type { Queryable } from '@/lib/server/db'
import type { Logger } from './logger'

/** The internal queue the schedule sends to (not a QueueService: it has no owner or progress). */
export const MAINTENANCE_QUEUE = '__maintenance'
const SCHEDULE = '*/15 * * * *'

export interface RetentionPolicy {
  /** Hours an export file stays downloadable after its job settled. */
  fileHours: number
  /** Days a settled job (record, timeline, file, emails) is kept. */
  jobDays: number
}

/** Applies `policy` once. Returns how many files and jobs it deleted. */
export async function runRetention(db: Queryable, policy: RetentionPolicy): Promise<{ files: number; jobs: number }> {
  const files = await db.query(
    `DELETE FROM app.job_file_parts p USING app.jobs j
      WHERE p.job_id = j.id AND j.settled_at < now() - make_interval(secs => $1) RETURNING p.job_id`,
    [policy.fileHours * 3600],
  )
  const jobs = await db.query(
    `DELETE FROM app.jobs WHERE state IN ('completed', 'failed', 'cancelled') AND settled_at < now() - make_interval(secs => $1)`,
    [policy.jobDays * 86400],
  )
  await db.query(`DELETE FROM app.sent_emails WHERE sent_at < now() - make_interval(secs => $1)`, [
    policy.jobDays * 86400,
  ])
  // Import leftovers: uploads no import took (a request or job that died) and rows staged by
  // attempts whose job has settled since (a worker killed mid-import). An upload an import still
  // waits for or runs on stays, however old: a backlog or a retry's backoff can outlast the TTL,
  // and deleting it would fail that import ("no longer available").
  await db.query(
    `DELETE FROM app.uploads u
      WHERE u.created_at < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM app.jobs j
                         WHERE j.queue = $2 AND j.state IN ('queued', 'active') AND j.payload->>'uploadId' = u.id::text)`,
    [policy.fileHours * 3600, IMPORTS_QUEUE],
  )
  await db.query(
    `DELETE FROM app.import_staged_cities s
      WHERE NOT EXISTS (SELECT 1 FROM app.jobs j WHERE j.id = s.job_id AND j.state IN ('queued', 'active'))`,
  )
  return { files: new Set(files.rows.map((r) => r.job_id)).size, jobs: jobs.rowCount ?? 0 }
}

/** Registers the schedule and its handler on this worker's pg-boss. */
export async function startMaintenance(boss: PgBoss, pool: pg.Pool, log: Logger): Promise<void> {
  const { EXPORT_FILE_TTL_HOURS, JOB_RETENTION_DAYS } = workerEnv()
  const policy: RetentionPolicy = { fileHours: EXPORT_FILE_TTL_HOURS, jobDays: JOB_RETENTION_DAYS }
  await boss.createQueue(MAINTENANCE_QUEUE, { retryLimit: 1, expireInSeconds: 600 })
  await boss.schedule(MAINTENANCE_QUEUE, SCHEDULE, {}, { key: 'retention' })
  await boss.work(MAINTENANCE_QUEUE, async () => {
    const deleted = await runRetention(pool, policy)
    if (deleted.files || deleted.jobs)
      log.info(`retention: deleted ${deleted.files} export file(s) and ${deleted.jobs} settled job(s)`)
  })
}
