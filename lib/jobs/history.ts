/**
 * Job history shapes and rules shared by the web tier and the browser: the timeline of one job
 * (rows of `app.job_events`) and the progress rate of a running attempt. Pure: no database here.
 */
import { z } from 'zod'
import type { JobSnapshot } from './job'

/**
 * One page of a newest-first job list. `nextCursor`: where the next (older) page starts, null on
 * the last page. `asOf`: the database time (ISO) the page was read at.
 */
export interface JobPage<T extends JobSnapshot = JobSnapshot> {
  jobs: T[]
  nextCursor: string | null
  asOf: string
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
