/**
 * What the operator view shows: per-queue counts (pg-boss) and stuck jobs.
 */
import type { PgBoss } from 'pg-boss'
import type { Queryable } from './db'

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
