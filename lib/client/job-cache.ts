/**
 * Pure rules for keeping job snapshots in the client cache. A snapshot only ever replaces an
 * older one (lower `seq`), so a late response or event never moves the UI backwards; a list the
 * server read later decides which jobs a list holds, except jobs created after it was read.
 */
import type { JobPage } from '@/lib/jobs/history'
import type { JobSnapshot, JobState } from '@/lib/jobs/job'

/**
 * The newer of two snapshots of the same job (`current` may be missing): the higher `seq` wins.
 * One exception keeps progress from stepping back: a progress write the database held up (a
 * locked row) commits with a fresh `seq` but a value older than events already shown. Within one
 * running attempt, with the same total, the larger `current` is kept.
 */
export function newer(current: JobSnapshot | undefined, incoming: JobSnapshot): JobSnapshot {
  if (!current) return incoming
  if (current.seq >= incoming.seq) return current
  const shown = current.progress
  const next = incoming.progress
  if (
    incoming.state === 'active' &&
    current.state === 'active' &&
    incoming.attempt === current.attempt &&
    shown &&
    next &&
    shown.total === next.total &&
    next.current < shown.current
  ) {
    return { ...incoming, progress: shown }
  }
  return incoming
}

/**
 * `newer` for cache entries that carry more than a snapshot (an operator's list rows carry
 * `ownerId`, which events do not): the extra fields of `current` are kept. Returns `current`
 * itself when it stays the newer one, so callers can tell that nothing changed.
 */
export function mergeJob<T extends JobSnapshot>(current: T | undefined, incoming: T | JobSnapshot): T {
  const next = newer(current, incoming)
  if (next === current) return current
  return (current ? { ...current, ...next } : next) as T
}

/**
 * Which jobs a list shows. `queue`, `state`: only jobs with that queue or state (default: all).
 * `cursor`: an older page (from a page's `nextCursor`); new jobs never appear on it.
 * `limit`: the page size (default 25, as the server's).
 */
export interface JobListFilter {
  queue?: string
  state?: JobState
  cursor?: string
  limit?: number
}

/** The filter without empty fields, so equal filters give equal query keys. */
export function normalizeFilter(filter: JobListFilter): JobListFilter {
  const out: JobListFilter = {}
  if (filter.queue) out.queue = filter.queue
  if (filter.state) out.state = filter.state
  if (filter.cursor) out.cursor = filter.cursor
  if (filter.limit !== undefined) out.limit = filter.limit
  return out
}

/** Whether `job` belongs in a list with `filter` (its queue and state; the cursor is the server's). */
export function matchesFilter(job: Pick<JobSnapshot, 'queue' | 'state'>, filter: JobListFilter): boolean {
  return (!filter.queue || job.queue === filter.queue) && (!filter.state || job.state === filter.state)
}

function byNewest(a: JobSnapshot, b: JobSnapshot): number {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id.localeCompare(a.id)
}

/**
 * Applies one changed job to a cached page: a known job is updated (newer `seq` wins) and leaves
 * the page once it no longer matches the filter; an unknown one that matches joins the first page
 * (never an older one) in newest-first order, the page keeping at most `limit` jobs. Returns
 * `page` itself when nothing changed.
 */
export function applyToPage<T extends JobSnapshot>(
  page: JobPage<T>,
  incoming: JobSnapshot,
  filter: JobListFilter,
): JobPage<T> {
  const index = page.jobs.findIndex((j) => j.id === incoming.id)
  if (index >= 0) {
    const current = page.jobs[index]!
    const merged = mergeJob(current, incoming)
    if (merged === current) return page
    const jobs = [...page.jobs]
    if (matchesFilter(merged, filter)) jobs[index] = merged
    else jobs.splice(index, 1)
    return { ...page, jobs }
  }
  if (filter.cursor || !matchesFilter(incoming, filter)) return page
  const jobs = [...page.jobs, incoming as T].sort(byNewest)
  return { ...page, jobs: jobs.slice(0, filter.limit ?? 25) }
}

/**
 * Merges two reads of the same list. The page read later (`asOf`) decides which jobs are on it;
 * per job the newer snapshot wins, so an event that arrived while a request was in flight is not
 * undone. A job only the earlier page has stays when it was created after the later page was read
 * (it joined through an event or an action's answer, and the later read could not see it yet).
 */
export function mergePages<T extends JobSnapshot>(
  a: JobPage<T> | undefined,
  b: JobPage<T> | undefined,
  filter: JobListFilter,
): JobPage<T> | undefined {
  if (!a || !b) return a ?? b
  const [later, earlier] = Date.parse(a.asOf) >= Date.parse(b.asOf) ? [a, b] : [b, a]
  const known = new Map(earlier.jobs.map((j) => [j.id, j]))
  const jobs: T[] = []
  for (const job of later.jobs) {
    const other = known.get(job.id)
    known.delete(job.id)
    const merged = other ? mergeJob(job, other) : job
    if (matchesFilter(merged, filter)) jobs.push(merged)
  }
  const readAt = Date.parse(later.asOf)
  if (!filter.cursor) {
    for (const job of known.values()) {
      if (Date.parse(job.createdAt) > readAt && matchesFilter(job, filter)) jobs.push(job)
    }
  }
  jobs.sort(byNewest)
  return { jobs: jobs.slice(0, filter.limit ?? 25), nextCursor: later.nextCursor, asOf: later.asOf }
}
