/**
 * How an attempt ends, in the words the settler writes and the owner reads: the outcome union,
 * the reasons a handler's signal is aborted, and the safe error each reason shows.
 */
import { errorRef, jobError, type JobError, type JobErrorCode } from '@/lib/jobs/errors'
import type { Logger } from '../logger'

/** How an attempt ended. A retryable failure goes back to pg-boss's retry while attempts remain. */
export type AttemptOutcome =
  | { kind: 'completed'; result: unknown }
  | { kind: 'cancelled' }
  | { kind: 'failed'; error: JobError; retryable: boolean }

/**
 * Why an attempt's signal was aborted: its owner cancelled; the worker is shutting down; the
 * attempt reached `expireInSeconds`; or pg-boss no longer counts this worker's claim (heartbeat lost).
 */
export type AbortReason = 'cancel' | 'shutdown' | 'expired' | 'lost'

/**
 * The outcome of an attempt that threw or was interrupted: a retryable failure. The owner sees a
 * safe message and a reference; the log has the details (the stack, or why it was interrupted) under it.
 */
export function failedAttempt(
  job: { id: string; attempt: number; expireInSeconds: number },
  err: unknown,
  reason: AbortReason | undefined,
  log: Logger,
): AttemptOutcome {
  const ref = errorRef()
  const known = reason ? interruption(reason, job.expireInSeconds) : null
  const detail = known ? known.log : ((err as Error)?.stack ?? String(err))
  log.error(`job ${job.id} attempt ${job.attempt} [ref ${ref}]: ${detail}`)
  return { kind: 'failed', error: jobError(known ? known.code : 'EXCEPTION', { ref }), retryable: true }
}

/** The code of an interrupted attempt (its message is in lib/jobs/errors.ts) and what the log says; a cancel is not a failure. */
function interruption(
  reason: AbortReason,
  expireInSeconds: number,
): { code: Extract<JobErrorCode, 'INTERRUPTED' | 'EXPIRED' | 'WORKER_LOST'>; log: string } | null {
  switch (reason) {
    case 'shutdown':
      return { code: 'INTERRUPTED', log: 'interrupted by shutdown' }
    case 'expired':
      return { code: 'EXPIRED', log: `expired (limit ${expireInSeconds} s)` }
    case 'lost':
      return { code: 'WORKER_LOST', log: 'claim lost (no heartbeat)' }
    case 'cancel':
      return null
  }
}
