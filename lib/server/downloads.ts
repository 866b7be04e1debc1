/**
 * The one rule for when a finished export stops being downloadable, shared by /downloads/:id
 * (which answers 410 Gone after it) and every page that would otherwise link to a dead file.
 */
import { ExportResult, exportsQueue } from '@/lib/jobs/exports'
import type { JobSnapshot } from '@/lib/jobs/job'
import { webEnv } from './env'

/**
 * When the file of a completed `job` expires (ms since the epoch): `EXPORT_FILE_TTL_HOURS` after it
 * settled, as the web tier is configured now (the `expiresAt` a worker wrote into the result may
 * predate a change of the setting). NaN-free: a job without `settledAt` has already expired.
 */
export function downloadExpiresAt(job: Pick<JobSnapshot, 'settledAt'>): number {
  const settledAt = job.settledAt ? Date.parse(job.settledAt) : NaN
  return Number.isFinite(settledAt) ? settledAt + webEnv().EXPORT_FILE_TTL_HOURS * 3_600_000 : 0
}

/** Whether the file of a completed `job` has expired at `now` (default: now). */
export function downloadExpired(job: Pick<JobSnapshot, 'settledAt'>, now: number = Date.now()): boolean {
  return downloadExpiresAt(job) <= now
}

/**
 * `job` with its export result's `expiresAt` no later than `downloadExpiresAt`, so every view the web
 * tier serves (pages, `jobStatus`, `listJobs`) agrees with /downloads/:id and never links to a 410.
 * Jobs of other queues, and results that are not an export's, are returned as they are.
 */
export function withDownloadExpiry<J extends Pick<JobSnapshot, 'queue' | 'state' | 'settledAt' | 'result'>>(job: J): J {
  if (job.queue !== exportsQueue.name || job.state !== 'completed') return job
  const parsed = ExportResult.safeParse(job.result)
  if (!parsed.success) return job
  // The earlier of the two: the stored time (written just before the job settled) stays as it is
  // unless the route's rule (a shorter TTL now, or an older settle) already ends the download sooner.
  const expiresAt = downloadExpiresAt(job)
  const stored = parsed.data.expiresAt ? Date.parse(parsed.data.expiresAt) : Infinity
  if (stored <= expiresAt) return job
  return { ...job, result: { ...parsed.data, expiresAt: new Date(expiresAt).toISOString() } }
}
