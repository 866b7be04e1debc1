/**
 * The one error vocabulary of the app: the codes a Server Action (or a socket acknowledgement)
 * answers with, the codes a failed job carries, each job code's one safe message, and the short
 * reference id that ties what a person sees to the log line with the details. No server-only
 * imports: both tiers and the browser use it.
 */
import { z } from 'zod'

/**
 * Why an action or a socket acknowledgement refused; `message` beside it is always safe to show.
 * - `VALIDATION`: the input did not match its schema; `fields` maps field names to messages.
 * - `NOT_FOUND`: no such job for this caller (also when it exists but belongs to someone else,
 *   and when there is no session).
 * - `NOT_CANCELLABLE`: the job is settled or a cancel is already under way (or, for an operator's
 *   retry, the job did not fail).
 * - `UNAVAILABLE`: the database or the workers cannot be reached right now; try again.
 * - `LIMITED`: the caller has too many jobs queued or running.
 * - `INTERNAL`: an unexpected error; `ref` is the id logged on the server next to the details.
 */
export const ACTION_ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'NOT_CANCELLABLE',
  'UNAVAILABLE',
  'LIMITED',
  'INTERNAL',
] as const
export type ActionErrorCode = (typeof ACTION_ERROR_CODES)[number]

/**
 * Why a job failed, and the one message its owner is shown for each reason. Only `FAILED` carries
 * other words: the handler's own, from `failJob`; its message here is the fallback.
 * - `FAILED`: the handler called `failJob` (not retried).
 * - `EXCEPTION`: the handler threw (retried while attempts remain).
 * - `INVALID_PAYLOAD`: the stored payload no longer matches the queue's schema (not retried).
 * - `EXPIRED`: the attempt ran past the queue's `expireInSeconds` (retried).
 * - `INTERRUPTED`: the worker shut down while the attempt ran (retried).
 * - `WORKER_LOST`: the worker running the attempt stopped heartbeating, so pg-boss took the job
 *   back (retried; written by the runner that notices, or by the reconciler for a worker that is gone).
 * - `JOB_LOST`: its pg-boss job was deleted before it settled: nothing could run it (not retried).
 */
export const JOB_ERROR_MESSAGES = {
  FAILED: 'The job could not be completed.',
  EXCEPTION: 'The job failed unexpectedly.',
  INVALID_PAYLOAD: 'This job was created with input the worker no longer accepts.',
  EXPIRED: 'The job ran longer than its time limit.',
  INTERRUPTED: 'The worker was shut down while this job ran.',
  WORKER_LOST: 'The worker running this job stopped responding.',
  JOB_LOST: 'This job was lost by the queue before it finished. Start it again.',
} as const satisfies Record<string, string>

export const JobErrorCode = z.enum(Object.keys(JOB_ERROR_MESSAGES) as [keyof typeof JOB_ERROR_MESSAGES])
export type JobErrorCode = z.infer<typeof JobErrorCode>

/**
 * Why a job failed, safe to show to its owner: `code` (see `JOB_ERROR_MESSAGES`), `message`, and
 * `ref`, a short id that also appears in the worker log next to the full error (absent when there
 * is nothing more to log, as for `FAILED`).
 */
export const JobError = z.object({
  code: JobErrorCode,
  message: z.string(),
  ref: z.string().optional(),
})
export type JobError = z.infer<typeof JobError>

/** A failed job's error: `FAILED` with the handler's own words (`failJob`). */
export function jobError(code: 'FAILED', options: { message: string }): JobError
/** A failed job's error with its code's one message, and the reference logged with the details. */
export function jobError(code: Exclude<JobErrorCode, 'FAILED'>, options?: { ref?: string }): JobError
export function jobError(code: JobErrorCode, options: { message?: string; ref?: string } = {}): JobError {
  const error: JobError = { code, message: options.message || JOB_ERROR_MESSAGES[code] }
  return options.ref ? { ...error, ref: options.ref } : error
}

/**
 * A new reference id: 8 lowercase hex characters (32 random bits), logged next to an unexpected
 * error's details and shown to the person who met it, so a report can be matched to its log line.
 */
export function errorRef(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(4))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** What a person is shown for an unexpected error logged under `ref`: the reference and nothing of its cause. */
export function internalErrorMessage(ref: string): string {
  return `Something went wrong on our side (reference ${ref}).`
}

/** What a person is shown while the database cannot be reached (`UNAVAILABLE`, HTTP 503). */
export const UNAVAILABLE_MESSAGE = 'The service is temporarily unavailable. Try again in a moment.'

/** A job error as one line of text: its message, then its reference if it has one. */
export function jobErrorText(error: JobError): string {
  return error.ref ? `${error.message} (reference ${error.ref})` : error.message
}
