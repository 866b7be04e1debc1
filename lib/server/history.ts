/**
 * Job history: keyset-paginated lists with filters, the append-only timeline of one job, and the
 * progress rate of a running job. Reads only; `app.jobs` and `app.job_events` are written elsewhere.
 */
import { z } from 'zod'
import { TimelineEvent, type JobPage } from '@/lib/jobs/history'
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
 * An invalid cursor starts from the newest job. `asOf` is the database time the page was read at
 * (one statement, so one snapshot): a browser keeps a job the page lacks only if it was created
 * later (see `mergePages` in lib/client/job-cache.ts).
 */
export async function listJobHistory(
  db: Queryable,
  options: { ownerId: string | null; filter: HistoryFilter; limit?: number },
): Promise<JobPage<JobSnapshot & { ownerId: string }>> {
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
  // The LEFT JOIN keeps one row (with the time) when no job matches.
  const { rows } = await db.query<{ as_of: string; snapshot: unknown; owner_id: string | null }>(
    `SELECT t.as_of, p.snapshot, p.owner_id
       FROM (SELECT to_json(statement_timestamp()) #>> '{}' AS as_of) t
       LEFT JOIN LATERAL (
         SELECT app.job_snapshot(j) AS snapshot, j.owner_id, j.created_at, j.id FROM app.jobs j
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY j.created_at DESC, j.id DESC LIMIT $${values.length}
       ) p ON true
      ORDER BY p.created_at DESC, p.id DESC`,
    values,
  )
  const found = rows.filter((r) => r.owner_id !== null)
  const jobs = found.slice(0, limit).map((r) => ({ ...JobSnapshot.parse(r.snapshot), ownerId: r.owner_id! }))
  const last = jobs[jobs.length - 1]
  return {
    jobs,
    nextCursor: found.length > limit && last ? encodeCursor(last) : null,
    asOf: new Date(rows[0]!.as_of).toISOString(),
  }
}

/** `page` without its owner ids: what a viewer gets of their own jobs. */
export function withoutOwners(page: JobPage<JobSnapshot & { ownerId: string }>): JobPage {
  return {
    ...page,
    jobs: page.jobs.map((job) => {
      const copy: JobSnapshot & { ownerId?: string } = { ...job }
      delete copy.ownerId
      return copy
    }),
  }
}

/** The job's events, oldest first. The caller must have checked that the viewer may see the job. */
export async function getTimeline(db: Queryable, jobId: string): Promise<TimelineEvent[]> {
  const { rows } = await db.query(
    `SELECT id, to_json(at) #>> '{}' AS at, kind, attempt, actor, data FROM app.job_events WHERE job_id = $1 ORDER BY id`,
    [jobId],
  )
  return rows.map((r) => TimelineEvent.parse(r))
}

// Pure rules shared with the browser live in lib/jobs/history.ts; re-exported for server callers.
export { progressRate, TimelineEvent } from '@/lib/jobs/history'
