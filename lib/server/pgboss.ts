/**
 * Every place the template relies on pg-boss beyond its documented API, in one file: its schema
 * name, how it runs statements inside our transaction, the shape of its fetch statement (which
 * `claimJobs` extends), the `affected` count and touched ids of its command responses (typed as an
 * empty `CommandResponse`), and the raw reads of its job table.
 * pgboss.int.test.ts checks each of them against the installed pg-boss, so an upgrade that moves
 * one fails that test, by name, instead of a wake-up, a heartbeat or a reconcile silently.
 */
import type { ConnectionOptions, Db, Job, PgBoss } from 'pg-boss'
import { jobError, type JobErrorCode } from '@/lib/jobs/errors'
import { JobSnapshot } from '@/lib/jobs/job'
import { createHash } from 'node:crypto'
import { queryPrepared, type PreparingQueryable, type Queryable } from './db'
import { claimAndMarkActive, takeRunningRecord, type RunningRecord } from './job-store'

/** The schema pg-boss installs into (the worker installs it; the web tier only produces). */
export const PGBOSS_SCHEMA = 'pgboss'

/** pg-boss's job table, read by the queries below (columns: id, name, state, retry_count, start_after, started_on, heartbeat_on, heartbeat_seconds). */
const JOB_TABLE = `${PGBOSS_SCHEMA}.job`

/** One attempt of a pg-boss job: its id and `retryCount` (0 for the first attempt). */
export interface AttemptRef {
  id: string
  retryCount: number
}

/**
 * pg-boss connection options that run its statements on `db` (a client inside our transaction,
 * or a pool): pass them as the last argument of send/complete/fail/cancel/retry/findJobs.
 */
export function onConnection(db: Queryable): Required<ConnectionOptions> {
  return { db: { executeSql: (text, values) => db.query(text, values) } }
}

/**
 * The prepared statement's name for a claim statement. pg-boss writes the batch size into the
 * text, so a queue has one text per batch size (at most its workerCount), each planned once per
 * connection instead of on every fetch (about 0.6 ms of planning each time, measured).
 */
function claimStatementName(text: string): string {
  return `nbj_claim_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`
}

/** A job `claimJobs` claimed, with its record as marked running, or `null` when it must not run. */
export interface ClaimedJob {
  job: Job<unknown>
  record: RunningRecord | null
}

/**
 * Claims up to `count` jobs of `queue` with pg-boss's own `fetch` and, in the same statement,
 * marks them running in `app.jobs` (`claimAndMarkActive`): one round trip from a job waiting to
 * its handler starting, and no moment when pg-boss counts a job as claimed that our record still
 * shows as queued (a worker that dies there leaves nothing half-started). A claimed job whose
 * record was not marked (cancelled while queued, settled by an operator, no record) comes back
 * with `record: null`: it must not run.
 *
 * Relies on pg-boss's fetch being one statement that returns `id` and `"retryCount"`: checked by
 * pgboss.int.test.ts.
 */
export async function claimJobs(
  boss: PgBoss,
  db: PreparingQueryable,
  queue: string,
  options: { count: number; maxAttempts: number },
): Promise<ClaimedJob[]> {
  const records = new Map<unknown, RunningRecord | null>()
  const jobs = await boss.fetch<unknown>(queue, {
    batchSize: options.count,
    db: {
      executeSql: async (text, values) => {
        const statement = claimAndMarkActive({ text, values: values ?? [] }, options.maxAttempts)
        const result = await queryPrepared(db, claimStatementName(statement.text), statement.text, statement.values)
        for (const row of result.rows) records.set(row.id, takeRunningRecord(row))
        return result
      },
    },
  })
  return jobs.map((job) => ({ job, record: records.get(job.id) ?? null }))
}

/** How many jobs a pg-boss command (retry, resume, cancel, ...) changed. */
export function affectedCount(response: unknown): number {
  const affected = (response as { affected?: unknown } | null)?.affected
  if (typeof affected !== 'number') throw new Error('pg-boss command response has no numeric `affected`')
  return affected
}

/**
 * Refreshes the heartbeat of `attempts` of `queue` in one statement; resolves with the ids pg-boss
 * still counted as active attempts (the rest were expired, retried or failed by its monitor).
 */
export async function touchAttempts(boss: PgBoss, queue: string, attempts: AttemptRef[]): Promise<Set<string>> {
  const response = (await boss.touch(queue, attempts)) as { settled?: unknown }
  if (!Array.isArray(response.settled)) throw new Error('pg-boss touch response has no `settled` ids')
  return new Set(response.settled as string[])
}

/**
 * Brings records of lost attempts in line with pg-boss: a job we think is active whose pg-boss
 * job was retried or failed by pg-boss's monitor (the worker stopped heartbeating, or the attempt
 * expired) becomes queued ("worker lost, retrying") or failed. Jobs running in this process
 * (`localIds`) are left alone. Returns how many records changed.
 */
export async function reconcileLostJobs(db: Queryable, localIds: string[]): Promise<number> {
  const lost = JSON.stringify(jobError('WORKER_LOST'))
  const { rowCount } = await db.query(
    `UPDATE app.jobs j
        SET state = CASE WHEN b.state = 'failed' THEN 'failed' ELSE 'queued' END,
            error = $2::jsonb,
            settled_at = CASE WHEN b.state = 'failed' THEN now() END,
            retry_at = CASE WHEN b.state = 'failed' THEN NULL ELSE b.start_after END
       FROM ${JOB_TABLE} b
      WHERE j.state = 'active' AND b.id = j.id AND b.name = j.queue
        AND NOT (j.id = ANY($1::uuid[]))
        AND (b.state IN ('created', 'retry', 'failed') OR (b.state = 'active' AND b.retry_count + 1 > j.attempt))`,
    [localIds, lost],
  )
  return rowCount ?? 0
}

/**
 * Jobs an operator should look at: active ones whose worker has not sent a heartbeat within the
 * queue's `heartbeatSeconds` (their worker is probably gone; pg-boss's monitor will retry them
 * shortly), and jobs settled as failed because their pg-boss job was deleted before they finished
 * (`JOB_LOST`, newest first, while retention keeps them). At most 50 of each.
 */
export async function stuckJobs(db: Queryable): Promise<(JobSnapshot & { ownerId: string })[]> {
  const { rows } = await db.query<{ snapshot: unknown; owner_id: string }>(
    `(SELECT app.job_snapshot(j) AS snapshot, j.owner_id FROM app.jobs j
       JOIN ${JOB_TABLE} b ON b.id = j.id AND b.name = j.queue
      WHERE j.state = 'active' AND b.state = 'active' AND b.heartbeat_seconds IS NOT NULL
        AND coalesce(b.heartbeat_on, b.started_on) < now() - make_interval(secs => b.heartbeat_seconds)
      ORDER BY j.started_at LIMIT 50)
     UNION ALL
     (SELECT app.job_snapshot(j), j.owner_id FROM app.jobs j
       WHERE j.state = 'failed' AND j.error->>'code' = $1
       ORDER BY j.settled_at DESC LIMIT 50)`,
    ['JOB_LOST' satisfies JobErrorCode],
  )
  return rows.map((r) => ({ ...JobSnapshot.parse(r.snapshot), ownerId: r.owner_id }))
}

/**
 * Settles as failed (`JOB_LOST`) every record still queued or active whose pg-boss job no longer
 * exists: deleted by hand, by pg-boss retention, or never inserted. Nothing could ever run or
 * settle such a record: it would wait forever and count against its owner's limit. Records and
 * pg-boss jobs are created in one transaction, so a record is never briefly without its job.
 * Jobs running in this process (`localIds`) are left to their runner (its heartbeat notices the
 * loss). Returns how many records it settled.
 */
export async function reconcileOrphanedJobs(db: Queryable, localIds: string[]): Promise<number> {
  const lost = JSON.stringify(jobError('JOB_LOST'))
  const { rowCount } = await db.query(
    `UPDATE app.jobs j
        SET state = 'failed', error = $2::jsonb, settled_at = now(), retry_at = NULL
      WHERE j.state IN ('queued', 'active') AND NOT (j.id = ANY($1::uuid[]))
        AND NOT EXISTS (SELECT 1 FROM ${JOB_TABLE} b WHERE b.name = j.queue AND b.id = j.id)`,
    [localIds, lost],
  )
  return rowCount ?? 0
}

/** How many jobs of `queue` pg-boss holds in one of `states` (the bench's raw pg-boss run). */
export async function countBossJobs(db: Db, queue: string, states: string[]): Promise<number> {
  const { rows } = await db.executeSql(
    `SELECT count(*)::int AS n FROM ${JOB_TABLE} WHERE name = $1 AND state::text = ANY($2::text[])`,
    [queue, states],
  )
  return (rows[0] as { n: number }).n
}

/** The state pg-boss holds job `id` of `queue` in, or `null` when it has no such job (tests and tools). */
export async function bossJobState(db: Queryable, queue: string, id: string): Promise<string | null> {
  const { rows } = await db.query<{ state: string }>(
    `SELECT state::text FROM ${JOB_TABLE} WHERE name = $1 AND id = $2`,
    [queue, id],
  )
  return rows[0]?.state ?? null
}

/** Moves the last heartbeat of job `id` of `queue` `seconds` into the past, as if its worker had gone quiet (tests and tools). */
export async function backdateHeartbeat(db: Queryable, queue: string, id: string, seconds: number): Promise<void> {
  await db.query(
    `UPDATE ${JOB_TABLE} SET heartbeat_on = now() - make_interval(secs => $3) WHERE name = $1 AND id = $2`,
    [queue, id, seconds],
  )
}
