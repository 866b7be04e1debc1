/**
 * Job history: keyset-paginated lists with filters, the append-only timeline of one job, and the
 * progress rate of a running job. Reads only; `app.jobs` and `app.job_events` are written elsewhere.
 */
import { z } from 'zod'
import { JobSnapshot, JobState } from '@/lib/jobs/job'
import type { Queryable } from './db'

/** Filters of a history page, as they arrive in the URL. Unknown values are rejected, not ignored. */
export const HistoryFilter = z.strictObject({
  queue: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,49}$/)
    .optional(),
  state: JobState.optional(),
  cursor: z.string().max(200).optional(),
})
export type HistoryFilter = z.infer<typeof HistoryFilter>

const Cursor = z.tuple([z.iso.datetime({ offset: true }), z.uuid()])

/** Opaque position after `job` in a newest-first list. */
export function encodeCursor(job: Pick<JobSnapshot, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([job.createdAt, job.id])).toString('base64url')
}

function decodeCursor(cursor: string): [string, string] | null {
  try {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/**
 * One page (default 25 jobs) of jobs, newest first, of `ownerId` (or of everyone when `ownerId` is
 * null: operators only), filtered by queue and state. `nextCursor` is null on the last page.
 * An invalid cursor starts from the newest job.
 */
export async function listJobHistory(
  db: Queryable,
  options: { ownerId: string | null; filter: HistoryFilter; limit?: number },
): Promise<{ jobs: (JobSnapshot & { ownerId: string })[]; nextCursor: string | null }> {
  const limit = options.limit ?? 25
  const where: string[] = []
  const values: unknown[] = []
  const add = (sql: string, ...vals: unknown[]) => {
    const base = values.length
    values.push(...vals)
    where.push(sql.replace(/\$(\d+)/g, (_m, n: string) => `$${base + Number(n)}`))
  }
  if (options.ownerId !== null) add('j.owner_id = $1', options.ownerId)
  if (options.filter.queue) add('j.queue = $1', options.filter.queue)
  if (options.filter.state) add('j.state = $1', options.filter.state)
  const after = options.filter.cursor ? decodeCursor(options.filter.cursor) : null
  if (after) add('(j.created_at, j.id) < ($1::timestamptz, $2::uuid)', after[0], after[1])
  values.push(limit + 1)
  const { rows } = await db.query<{ snapshot: unknown; owner_id: string }>(
    `SELECT app.job_snapshot(j) AS snapshot, j.owner_id FROM app.jobs j
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY j.created_at DESC, j.id DESC LIMIT $${values.length}`,
    values,
  )
  const jobs = rows.slice(0, limit).map((r) => ({ ...JobSnapshot.parse(r.snapshot), ownerId: r.owner_id }))
  const last = jobs[jobs.length - 1]
  return { jobs, nextCursor: rows.length > limit && last ? encodeCursor(last) : null }
}

export const TimelineEvent = z.object({
  id: z.number(),
  at: z.string(),
  kind: z.enum([
    'queued',
    'started',
    'progress',
    'cancel_requested',
    'retry_scheduled',
    'retry_requested',
    'completed',
    'failed',
    'cancelled',
  ]),
  attempt: z.number(),
  actor: z.enum(['owner', 'operator', 'system']).nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
})
export type TimelineEvent = z.infer<typeof TimelineEvent>

/** The job's events, oldest first. The caller must have checked that the viewer may see the job. */
export async function getTimeline(db: Queryable, jobId: string): Promise<TimelineEvent[]> {
  const { rows } = await db.query(
    `SELECT id, to_json(at) #>> '{}' AS at, kind, attempt, actor, data FROM app.job_events WHERE job_id = $1 ORDER BY id`,
    [jobId],
  )
  return rows.map((r) => TimelineEvent.parse(r))
}

/**
 * Average progress rate of a running attempt since it started (units per second) and the
 * estimated seconds left at that rate; null until there is progress to measure.
 */
export function progressRate(
  job: JobSnapshot,
  now: number = Date.now(),
): { perSecond: number; etaSeconds: number } | null {
  if (
    job.state !== 'active' ||
    !job.progress ||
    !job.startedAt ||
    job.progress.total === 0 ||
    job.progress.current === 0
  )
    return null
  const elapsed = (now - Date.parse(job.startedAt)) / 1000
  if (elapsed <= 0) return null
  const perSecond = job.progress.current / elapsed
  return { perSecond, etaSeconds: Math.max(0, (job.progress.total - job.progress.current) / perSecond) }
}
