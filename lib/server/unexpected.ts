/**
 * What a Server Action or a route handler answers for an error it did not expect: `UNAVAILABLE`
 * (HTTP 503) while the database cannot be reached, else `INTERNAL` (HTTP 500) with a reference id
 * that is logged here next to the details. Never a stack, SQL or path in the answer.
 */
import { errorRef, UNAVAILABLE_MESSAGE } from '@/lib/jobs/errors'
import { fail, failInternal, type ActionError } from '@/lib/jobs/result'
import { isDatabaseUnavailable } from './db'

/** Logs `err` under `[tag]` and says what to answer: the HTTP status and the `ActionResult` failure. */
export function unexpectedFailure(
  tag: string,
  err: unknown,
): { status: 500 | 503; answer: { ok: false; error: ActionError } } {
  if (isDatabaseUnavailable(err)) {
    console.warn(`[${tag}] database unavailable: ${(err as Error).message}`)
    return { status: 503, answer: fail('UNAVAILABLE', UNAVAILABLE_MESSAGE) }
  }
  const ref = errorRef()
  console.error(`[${tag}] unexpected error [ref ${ref}]`, err)
  return { status: 500, answer: failInternal(ref) }
}
