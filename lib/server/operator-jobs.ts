/**
 * The operator view's work on any viewer's jobs: per-queue counts (pg-boss), stuck jobs, and a
 * retry on request. The operator gate itself (who is an operator) is lib/request/operator.ts.
 */
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { withTransaction, type Queryable } from './db'
import { affectedCount, onConnection } from './pgboss'

export interface QueueCounts {
  name: string
  queued: number
  active: number
  failed: number
  completedLastHour: number
}

/**
 * Counts per queue: queued, active and failed from pg-boss (`getQueues`, refreshed by its monitor
 * at most every 10 s), completed in the last hour from `app.jobs`.
 */
export async function queueCounts(db: Queryable, boss: PgBoss): Promise<QueueCounts[]> {
  const [queues, completed] = await Promise.all([
    boss.getQueues(),
    db.query<{ queue: string; n: number }>(
      `SELECT queue, count(*)::int AS n FROM app.jobs WHERE state = 'completed' AND settled_at > now() - interval '1 hour' GROUP BY queue`,
    ),
  ])
  const done = new Map(completed.rows.map((r) => [r.queue, r.n]))
  return queues
    .filter((q) => !q.name.startsWith('__'))
    .map((q) => ({
      name: q.name,
      queued: q.queuedCount,
      active: q.activeCount,
      failed: q.failedCount,
      completedLastHour: done.get(q.name) ?? 0,
    }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** Active jobs whose worker stopped sending heartbeats, and jobs lost by pg-boss (read in lib/server/pgboss.ts). */
export { stuckJobs } from './pgboss'

/**
 * Sends a failed (or cancelled) job back to its queue for another attempt, on an operator's
 * request: the record becomes queued (the timeline shows "retry requested by an operator") and
 * pg-boss retries it (`retry` for a failed job, `resume` for one it holds as cancelled, a new
 * send with the same id if its retention already removed it). Returns false if the job is not settled as failed or cancelled.
 */
export async function retryJobAsOperator(pool: pg.Pool, boss: PgBoss, jobId: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ queue: string; payload: object }>(
      `UPDATE app.jobs SET state = 'queued', settled_at = NULL, retry_at = now(), cancel_requested_at = NULL, cancelled_by = NULL
       WHERE id = $1 AND state IN ('failed', 'cancelled') RETURNING queue, payload`,
      [jobId],
    )
    const job = rows[0]
    if (!job) return false
    const db = onConnection(client)
    if (affectedCount(await boss.retry(job.queue, jobId, db))) return true
    if (affectedCount(await boss.resume(job.queue, jobId, db))) return true
    await boss.deleteJob(job.queue, jobId, db)
    await boss.send(job.queue, job.payload, { id: jobId, ...db })
    return true
  })
}
