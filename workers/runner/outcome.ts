/**
 * How an attempt ends, in the words the settler writes and the owner reads: the outcome union,
 * the reasons a handler's signal is aborted, and the safe error each reason shows.
 */
import { randomBytes } from 'node:crypto'
import type { JobError } from '@/lib/jobs/job'
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

/** Makes the short reference id logged with an unexpected error and shown to the job's owner. */
export function errorRef(): string {
  return randomBytes(4).toString('hex')
}

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
  const error: JobError = known
    ? { code: known.code, message: known.message, ref }
    : { code: 'EXCEPTION', message: 'The job failed unexpectedly.', ref }
  return { kind: 'failed', error, retryable: true }
}

/** What the owner and the log are told about an interrupted attempt (a cancel is not a failure). */
function interruption(reason: AbortReason, expireInSeconds: number) {
  switch (reason) {
    case 'shutdown':
      return {
        code: 'INTERRUPTED',
        message: 'The worker was shut down while this job ran.',
        log: 'interrupted by shutdown',
      }
    case 'expired':
      return { code: 'EXPIRED', message: `The job ran longer than its limit of ${expireInSeconds} s.`, log: 'expired' }
    case 'lost':
      return {
        code: 'WORKER_LOST',
        message: 'The worker running this job lost contact with the database.',
        log: 'claim lost (no heartbeat)',
      }
    case 'cancel':
      return null
  }
}
