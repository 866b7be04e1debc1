/**
 * The one result shape every Server Action returns, and the shape of a failed job's error.
 * Expected failures are values, never thrown: their `message` is safe to show as is.
 */

/**
 * - `VALIDATION`: the input did not match its schema; `fields` maps field names to messages.
 * - `NOT_FOUND`: no such job for this viewer (also when it exists but belongs to someone else).
 * - `NOT_CANCELLABLE`: the job is settled or a cancel is already under way.
 * - `UNAVAILABLE`: the database or the workers cannot be reached right now; try again.
 * - `LIMITED`: the viewer has too many jobs queued or running.
 * - `INTERNAL`: an unexpected error; `ref` is the id logged on the server next to the details.
 */
export type ErrorCode = 'VALIDATION' | 'NOT_FOUND' | 'NOT_CANCELLABLE' | 'UNAVAILABLE' | 'LIMITED' | 'INTERNAL'

export interface ActionError {
  code: ErrorCode
  message: string
  fields?: Record<string, string[]>
  ref?: string
}

export type ActionResult<T> = { ok: true; value: T } | { ok: false; error: ActionError }

export function ok<T>(value: T): ActionResult<T> {
  return { ok: true, value }
}

export function fail(
  code: ErrorCode,
  message: string,
  extra: Omit<ActionError, 'code' | 'message'> = {},
): { ok: false; error: ActionError } {
  return { ok: false, error: { code, message, ...extra } }
}
