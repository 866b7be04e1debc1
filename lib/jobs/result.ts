/**
 * The one result shape every Server Action and socket acknowledgement answers with. Expected
 * failures are values, never thrown: their `message` is safe to show as is. The codes are in
 * lib/jobs/errors.ts, beside the codes of a failed job.
 */
import { internalErrorMessage, type ActionErrorCode } from './errors'

export interface ActionError {
  code: ActionErrorCode
  message: string
  fields?: Record<string, string[]>
  ref?: string
}

export type ActionResult<T> = { ok: true; value: T } | { ok: false; error: ActionError }

export function ok<T>(value: T): ActionResult<T> {
  return { ok: true, value }
}

export function fail(
  code: ActionErrorCode,
  message: string,
  extra: Omit<ActionError, 'code' | 'message'> = {},
): { ok: false; error: ActionError } {
  return { ok: false, error: { code, message, ...extra } }
}

/** `INTERNAL` for an unexpected error logged under `ref` (see `errorRef`): the reference, never the cause. */
export function failInternal(ref: string): { ok: false; error: ActionError } {
  return fail('INTERNAL', internalErrorMessage(ref), { ref })
}
