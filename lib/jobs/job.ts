/**
 * The job contract shared by the web tier, the worker tier and the browser.
 * A job's truth lives in PostgreSQL (`app.jobs`); everything here describes that row as JSON.
 */
import { z } from 'zod'
import { JobError } from './errors'

/** Lifecycle of a job. `completed`, `failed` and `cancelled` are *settled*: nothing changes after. */
export const JobState = z.enum(['queued', 'active', 'completed', 'failed', 'cancelled'])
export type JobState = z.infer<typeof JobState>

export const SETTLED_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled']

/** Whether a job in `state` has reached its end. */
export function isSettled(state: JobState): boolean {
  return SETTLED_STATES.includes(state)
}

/** Longest progress message kept, in characters; longer ones are cut with an ellipsis on purpose. */
export const PROGRESS_MESSAGE_MAX = 500

/**
 * Progress reported by a handler: `current` of `total` units (rows, files, ...) and a message for people.
 * `total` 0 means "not known yet" and renders as an indeterminate bar.
 */
export const JobProgress = z.object({
  current: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  message: z.string().max(PROGRESS_MESSAGE_MAX),
})
export type JobProgress = z.infer<typeof JobProgress>

/**
 * A job as its owner may see it. Produced by the SQL function `app.job_snapshot`, so reads and
 * realtime events have exactly one shape. `seq` grows with every change of any job (a database
 * sequence): a client keeps the snapshot with the highest `seq` and ignores older ones.
 */
export const JobSnapshot = z.object({
  id: z.uuid(),
  queue: z.string(),
  state: JobState,
  payload: z.unknown(),
  progress: JobProgress.nullable(),
  result: z.unknown().nullable(),
  /** Why the job failed (settled as failed, or queued for a retry after a failed attempt). */
  error: JobError.nullable(),
  /** Attempts started so far (0 while first queued). */
  attempt: z.number().int().nonnegative(),
  /** 1 + the queue's retry limit. */
  maxAttempts: z.number().int().positive(),
  /** True once someone asked to cancel; while `active`, the handler has not stopped yet. */
  cancelRequested: z.boolean(),
  /** Who asked to cancel, if anyone. */
  cancelledBy: z.enum(['owner', 'operator', 'system']).nullable(),
  /** While queued for a retry: when pg-boss will start it (ISO time). */
  retryAt: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  settledAt: z.string().nullable(),
  seq: z.number().int().nonnegative(),
})
export type JobSnapshot = z.infer<typeof JobSnapshot>

/** The words the UI shows for a job's state. */
export function stateLabel(job: Pick<JobSnapshot, 'state' | 'cancelRequested'>): string {
  if (job.state === 'active') return job.cancelRequested ? 'Cancelling' : 'Running'
  return { queued: 'Queued', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' }[job.state]
}

/** Whether the owner may still ask to cancel the job. */
export function isCancellable(job: Pick<JobSnapshot, 'state' | 'cancelRequested'>): boolean {
  return job.state === 'queued' || (job.state === 'active' && !job.cancelRequested)
}
