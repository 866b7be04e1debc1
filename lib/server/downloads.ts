/**
 * The one rule for when a finished export stops being downloadable, shared by /downloads/:id
 * (which answers 410 Gone after it) and every page that would otherwise link to a dead file.
 */
import type { JobSnapshot } from '@/lib/jobs/job'
import { exportFileTtlHours } from './env'

/**
 * When the file of a completed `job` expires (ms since the epoch): `EXPORT_FILE_TTL_HOURS` after it
 * settled, as the web tier is configured now (the `expiresAt` a worker wrote into the result may
 * predate a change of the setting). NaN-free: a job without `settledAt` has already expired.
 */
export function downloadExpiresAt(job: Pick<JobSnapshot, 'settledAt'>): number {
  const settledAt = job.settledAt ? Date.parse(job.settledAt) : NaN
  return Number.isFinite(settledAt) ? settledAt + exportFileTtlHours() * 3_600_000 : 0
}

/** Whether the file of a completed `job` has expired at `now` (default: now). */
export function downloadExpired(job: Pick<JobSnapshot, 'settledAt'>, now: number = Date.now()): boolean {
  return downloadExpiresAt(job) <= now
}
