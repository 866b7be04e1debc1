/**
 * SQL over `app.jobs`, our own record of every job (owner, state, progress, result, error).
 * Every UPDATE bumps `seq` and publishes the new snapshot through the table's trigger,
 * so callers never emit realtime events for changes they write here.
 */
import type { JobError } from '@/lib/jobs/errors'
import { JobSnapshot, type JobProgress } from '@/lib/jobs/job'
import { queryPrepared, type PreparingQueryable, type Queryable } from './db'

const SNAPSHOT = 'app.job_snapshot(j) AS snapshot'

function toSnapshot(row: { snapshot: unknown } | undefined): JobSnapshot | null {
  return row ? JobSnapshot.parse(row.snapshot) : null
}

/**
 * Inserts a queued job. Its `max_attempts` is set by the worker, which owns the queue's retry
 * options. With an `idempotencyKey` already used by this owner on this queue, nothing is inserted
 * and `created` is false: the existing job is returned instead.
 */
export async function insertJob(
  db: Queryable,
  job: { id: string; queue: string; ownerId: string; payload: unknown; idempotencyKey?: string },
): Promise<{ job: JobSnapshot; created: boolean }> {
  const { rows } = await db.query<{ snapshot: unknown }>(
    `INSERT INTO app.jobs AS j (id, queue, owner_id, payload, idempotency_key)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (owner_id, queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING ${SNAPSHOT}`,
    [job.id, job.queue, job.ownerId, JSON.stringify(job.payload), job.idempotencyKey ?? null],
  )
  if (rows[0]) return { job: toSnapshot(rows[0])!, created: true }
  return { job: (await findJobByIdempotencyKey(db, job.ownerId, job.queue, job.idempotencyKey!))!, created: false }
}

/** The owner's job of `queue` created with `idempotencyKey`, or `null` if none was accepted. */
export async function findJobByIdempotencyKey(
  db: Queryable,
  ownerId: string,
  queue: string,
  idempotencyKey: string,
): Promise<JobSnapshot | null> {
  const { rows } = await db.query<{ snapshot: unknown }>(
    `SELECT ${SNAPSHOT} FROM app.jobs j WHERE j.owner_id = $1 AND j.queue = $2 AND j.idempotency_key = $3`,
    [ownerId, queue, idempotencyKey],
  )
  return toSnapshot(rows[0])
}

/** The job if it exists and belongs to `ownerId`; `null` otherwise (existence is not leaked). */
export async function findJobForOwner(db: Queryable, id: string, ownerId: string): Promise<JobSnapshot | null> {
  const { rows } = await db.query<{ snapshot: unknown }>(
    `SELECT ${SNAPSHOT} FROM app.jobs j WHERE j.id = $1 AND j.owner_id = $2`,
    [id, ownerId],
  )
  return toSnapshot(rows[0])
}

/** Any job by id (worker and operator use only). */
export async function findJob(db: Queryable, id: string): Promise<(JobSnapshot & { ownerId: string }) | null> {
  const { rows } = await db.query<{ snapshot: unknown; owner_id: string }>(
    `SELECT ${SNAPSHOT}, j.owner_id FROM app.jobs j WHERE j.id = $1`,
    [id],
  )
  const row = rows[0]
  return row ? { ...JobSnapshot.parse(row.snapshot), ownerId: row.owner_id } : null
}

/** The owner's jobs, newest first, at most `limit` (default 50). */
export async function listJobsForOwner(db: Queryable, ownerId: string, limit = 50): Promise<JobSnapshot[]> {
  const { rows } = await db.query<{ snapshot: unknown }>(
    `SELECT ${SNAPSHOT} FROM app.jobs j WHERE j.owner_id = $1 ORDER BY j.created_at DESC, j.id DESC LIMIT $2`,
    [ownerId, limit],
  )
  return rows.map((r) => JobSnapshot.parse(r.snapshot))
}

/** Jobs of `ownerId` in `queue` that are queued or running (for per-viewer limits). */
export async function countUnsettledForOwner(db: Queryable, ownerId: string, queue: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1 AND queue = $2 AND state IN ('queued', 'active')`,
    [ownerId, queue],
  )
  return rows[0]?.n ?? 0
}

/** Who asked to cancel: the job's owner, an operator, or the system (for example retention). */
export type CancelledBy = 'owner' | 'operator' | 'system'

export type CancelOutcome =
  | { kind: 'cancelled'; job: JobSnapshot } // was queued: settled now, it will never start
  | { kind: 'cancelling'; job: JobSnapshot } // was running: the handler is asked to stop
  | { kind: 'not_cancellable'; job: JobSnapshot }
  | { kind: 'not_found' }

/**
 * Asks to cancel a job of `ownerId` (any job when `ownerId` is null: operators only). A queued job is settled as cancelled at once; a running one gets
 * `cancel_requested_at`, which the trigger publishes and the worker running it turns into an abort.
 * Both updates are conditional, so a job that starts or settles concurrently is never overwritten.
 */
export async function requestCancel(
  db: Queryable,
  id: string,
  ownerId: string | null,
  by: CancelledBy = 'owner',
): Promise<CancelOutcome> {
  const queued = await db.query<{ snapshot: unknown }>(
    `UPDATE app.jobs j SET state = 'cancelled', settled_at = now(), cancel_requested_at = now(), cancelled_by = $3, retry_at = NULL
     WHERE j.id = $1 AND ($2::text IS NULL OR j.owner_id = $2) AND j.state = 'queued' RETURNING ${SNAPSHOT}`,
    [id, ownerId, by],
  )
  if (queued.rows[0]) return { kind: 'cancelled', job: toSnapshot(queued.rows[0])! }
  const active = await db.query<{ snapshot: unknown }>(
    `UPDATE app.jobs j SET cancel_requested_at = now(), cancelled_by = $3
     WHERE j.id = $1 AND ($2::text IS NULL OR j.owner_id = $2) AND j.state = 'active' AND j.cancel_requested_at IS NULL
     RETURNING ${SNAPSHOT}`,
    [id, ownerId, by],
  )
  if (active.rows[0]) return { kind: 'cancelling', job: toSnapshot(active.rows[0])! }
  const current = ownerId === null ? await findJob(db, id) : await findJobForOwner(db, id, ownerId)
  return current ? { kind: 'not_cancellable', job: current } : { kind: 'not_found' }
}

/** A job's record as the runner holds it while the job runs: its snapshot and owner. */
export type RunningRecord = JobSnapshot & { ownerId: string }

function toRunningRecord(row: { snapshot: unknown; owner_id: string }): RunningRecord {
  return { ...JobSnapshot.parse(row.snapshot), ownerId: row.owner_id }
}

/** Columns `claimAndMarkActive` adds to each claimed row, and takes off again with `takeRunningRecord`. */
const MARKED_SNAPSHOT = 'nbj_marked_snapshot'
const MARKED_OWNER = 'nbj_marked_owner_id'

/**
 * Extends a claiming statement so that the same statement also marks what it claimed running in
 * `app.jobs`: a claim and its record change together or not at all, in one round trip. `claim`
 * must be one statement (it becomes a CTE) returning each claimed job's `id` and `"retryCount"`
 * (0 on the first attempt), as pg-boss's fetch does (see lib/server/pgboss.ts `claimJobs`).
 * Every row of the result is a claimed row; `takeRunningRecord` reads its record off it.
 */
export function claimAndMarkActive(
  claim: { text: string; values: unknown[] },
  maxAttempts: number,
): { text: string; values: unknown[] } {
  const maxParam = `$${claim.values.length + 1}::int`
  return {
    // The mark leaves out a job that is cancelled, settled or unknown: it must not run. Two
    // choices keep the plan a probe by id whatever the statistics: `j.id = ANY(...)` repeats the
    // join to give every plan an index condition, and the state test names the settled states,
    // so it matches no index. (Written as `state IN ('queued', 'active')`, it matched the partial
    // index of unsettled jobs: statistics from before a burst estimate that index at a row or two,
    // and every claim read every waiting job, about 4 ms per claim at 15,000 waiting.)
    text: `WITH claimed AS (${claim.text}),
     marked AS (
       UPDATE app.jobs j SET state = 'active', attempt = v.attempt, max_attempts = GREATEST(${maxParam}, v.attempt),
              started_at = now(), error = NULL, retry_at = NULL
         FROM (SELECT c.id, c."retryCount" + 1 AS attempt FROM claimed c) AS v
        WHERE j.id = v.id AND j.id = ANY(ARRAY(SELECT c.id FROM claimed c))
          AND j.state NOT IN ('completed', 'failed', 'cancelled') AND j.cancel_requested_at IS NULL
        RETURNING j.id, ${SNAPSHOT}, j.owner_id
     )
     SELECT c.*, m.snapshot AS ${MARKED_SNAPSHOT}, m.owner_id AS ${MARKED_OWNER}
       FROM claimed c LEFT JOIN marked m ON m.id = c.id`,
    values: [...claim.values, maxAttempts],
  }
}

/**
 * Takes the columns `claimAndMarkActive` added off a claimed row (so the row is again what the
 * claiming statement returned) and returns the job's record as marked running, or `null` when
 * the job was not marked and must not run.
 */
export function takeRunningRecord(row: Record<string, unknown>): RunningRecord | null {
  const snapshot = row[MARKED_SNAPSHOT]
  const owner = row[MARKED_OWNER]
  delete row[MARKED_SNAPSHOT]
  delete row[MARKED_OWNER]
  return snapshot == null ? null : toRunningRecord({ snapshot, owner_id: String(owner) })
}

/**
 * Settles running attempts as completed with their results and final progress, in one statement,
 * fenced like `settleJob`, probing app.jobs by id whatever the statistics (see `claimAndMarkActive`).
 * Returns the ids it settled.
 */
export async function completeMany(
  db: PreparingQueryable,
  jobs: { id: string; attempt: number; result: unknown; progress: JobProgress | null }[],
): Promise<Set<string>> {
  // Prepared: it runs once per completed batch.
  const { rows } = await queryPrepared<{ id: string }>(
    db,
    'nbj_complete_many',
    `UPDATE app.jobs j SET state = 'completed', result = v.result, progress = COALESCE(v.progress, j.progress), settled_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, attempt int, result jsonb, progress jsonb)
      WHERE j.id = v.id AND j.id = ANY($2::uuid[]) AND j.attempt = v.attempt AND j.state = 'active'
      RETURNING j.id`,
    [JSON.stringify(jobs), jobs.map((j) => j.id)],
  )
  return new Set(rows.map((r) => r.id))
}

/** Stores the latest progress of a running attempt (fenced: a stale attempt writes nothing). */
export async function saveProgress(db: Queryable, id: string, attempt: number, progress: JobProgress): Promise<void> {
  await db.query(`UPDATE app.jobs SET progress = $3 WHERE id = $1 AND attempt = $2 AND state = 'active'`, [
    id,
    attempt,
    JSON.stringify(progress),
  ])
}

/**
 * Settles a running attempt as completed, failed or cancelled, with its final progress.
 * Fenced by attempt and state: returns `null` (and changes nothing) when that attempt no longer owns the job.
 */
export async function settleJob(
  db: Queryable,
  id: string,
  attempt: number,
  outcome: {
    state: 'completed' | 'failed' | 'cancelled'
    result?: unknown
    error?: JobError
    progress?: JobProgress | null
  },
): Promise<JobSnapshot | null> {
  const { rows } = await db.query<{ snapshot: unknown }>(
    `UPDATE app.jobs j SET state = $3, result = $4, error = $5, progress = COALESCE($6, j.progress), settled_at = now()
     WHERE j.id = $1 AND j.attempt = $2 AND j.state = 'active' RETURNING ${SNAPSHOT}`,
    [
      id,
      attempt,
      outcome.state,
      outcome.result === undefined ? null : JSON.stringify(outcome.result),
      outcome.error ? JSON.stringify(outcome.error) : null,
      outcome.progress ? JSON.stringify(outcome.progress) : null,
    ],
  )
  return toSnapshot(rows[0])
}

/**
 * Puts a failed attempt back to queued until pg-boss starts the retry at `retryAt`, keeping its
 * error visible meanwhile. Fenced by attempt; returns `null` when it changed nothing.
 */
export async function markRetrying(
  db: Queryable,
  id: string,
  attempt: number,
  error: JobError,
  retryAt: Date | null,
): Promise<JobSnapshot | null> {
  const { rows } = await db.query<{ snapshot: unknown }>(
    `UPDATE app.jobs j SET state = 'queued', error = $3, retry_at = $4
     WHERE j.id = $1 AND j.attempt = $2 AND j.state = 'active' RETURNING ${SNAPSHOT}`,
    [id, attempt, JSON.stringify(error), retryAt],
  )
  return toSnapshot(rows[0])
}

/**
 * Locks the job's row (inside the caller's transaction) if `attempt` is its active attempt.
 * Returns whether it is; settling code uses it to change nothing for a stale attempt.
 */
export async function lockActiveAttempt(db: Queryable, id: string, attempt: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM app.jobs WHERE id = $1 AND attempt = $2 AND state = 'active' FOR UPDATE`,
    [id, attempt],
  )
  return rowCount === 1
}

/** Next value of the change sequence, for realtime updates that are not written to the row. */
export async function nextSeq(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ seq: number }>(`SELECT nextval('app.job_seq') AS seq`)
  return rows[0]!.seq
}

/** Ids among `ids` whose owner asked to cancel (the polling fallback for a lost NOTIFY). */
export async function cancelRequestedAmong(db: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM app.jobs WHERE id = ANY($1::uuid[]) AND cancel_requested_at IS NOT NULL`,
    [ids],
  )
  return rows.map((r) => r.id)
}
