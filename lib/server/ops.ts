/**
 * What the operator view shows: per-queue counts (pg-boss) and stuck jobs.
 */
import type { PgBoss } from 'pg-boss'
import { JobSnapshot } from '@/lib/jobs/job'
import type { Queryable } from './db'
import { JOB_LOST } from './job-store'

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

/**
 * Jobs an operator should look at: active ones whose worker has not sent a heartbeat within the
 * queue's `heartbeatSeconds` (pg-boss's `heartbeat_on`: their worker is probably gone; pg-boss's
 * monitor will retry them shortly), and jobs settled as failed because their pg-boss job was
 * deleted before they finished (`JOB_LOST`, newest first, while retention keeps them). Reads
 * pg-boss's job table (`<schema>.job`). At most 50 of each.
 */
export async function stuckJobs(
  db: Queryable,
  pgbossSchema = 'pgboss',
): Promise<(JobSnapshot & { ownerId: string })[]> {
  const { rows } = await db.query<{ snapshot: unknown; owner_id: string }>(
    `(SELECT app.job_snapshot(j) AS snapshot, j.owner_id FROM app.jobs j
       JOIN ${pgbossSchema}.job b ON b.id = j.id AND b.name = j.queue
      WHERE j.state = 'active' AND b.state = 'active' AND b.heartbeat_seconds IS NOT NULL
        AND coalesce(b.heartbeat_on, b.started_on) < now() - make_interval(secs => b.heartbeat_seconds)
      ORDER BY j.started_at LIMIT 50)
     UNION ALL
     (SELECT app.job_snapshot(j), j.owner_id FROM app.jobs j
       WHERE j.state = 'failed' AND j.error->>'code' = $1
       ORDER BY j.settled_at DESC LIMIT 50)`,
    [JOB_LOST],
  )
  return rows.map((r) => ({ ...JobSnapshot.parse(r.snapshot), ownerId: r.owner_id }))
}
