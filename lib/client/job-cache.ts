/**
 * Pure rules for keeping job snapshots in the client cache. A snapshot only ever replaces an
 * older one (lower `seq`), so a late response or event never moves the UI backwards.
 */
import type { JobSnapshot } from '@/lib/jobs/job'

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

/** Upserts `incoming` into a newest-first list, keeping the newer snapshot. Returns a new list. */
export function mergeIntoList(list: readonly JobSnapshot[] | undefined, incoming: JobSnapshot): JobSnapshot[] {
  const jobs = list ? [...list] : []
  const index = jobs.findIndex((j) => j.id === incoming.id)
  if (index >= 0) {
    jobs[index] = newer(jobs[index], incoming)
    return jobs
  }
  jobs.push(incoming)
  return jobs.sort((a, b) =>
    a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id.localeCompare(a.id),
  )
}

/**
 * Merges a fresh list from the server with what the cache holds: per job, the newer snapshot
 * wins, so an event that arrived while the request was in flight is not undone.
 */
export function mergeLists(cached: readonly JobSnapshot[] | undefined, fresh: readonly JobSnapshot[]): JobSnapshot[] {
  const byId = new Map((cached ?? []).map((j) => [j.id, j]))
  return fresh.map((j) => newer(byId.get(j.id), j))
}
