/**
 * Wraps a Server Action body in the house rules: validate (zod), identify the viewer, act, and
 * always answer with an `ActionResult`. Expected failures are returned by the body; anything thrown
 * becomes `UNAVAILABLE` (database unreachable) or `INTERNAL` with a reference id that is logged
 * with the details. Never a stack trace, SQL or path in the answer, in dev or production.
 */
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { fail, type ActionResult } from '@/lib/jobs/result'
import { isDatabaseUnavailable } from './db'
import { getViewer, type Viewer } from './viewer'

/** Maps zod issues to `{ field: [messages] }`; unknown keys are reported under their own names. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {}
  const add = (key: string, message: string) => (fields[key] ??= []).push(message)
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) add(key, 'Unknown field.')
    else add(issue.path.length ? String(issue.path[0]) : 'input', issue.message)
  }
  return fields
}

export function defineAction<S extends z.ZodType, T>(
  schema: S,
  body: (input: z.output<S>, context: { viewer: Viewer }) => Promise<ActionResult<T>>,
): (input: unknown) => Promise<ActionResult<T>> {
  return async (input: unknown) => {
    try {
      const parsed = schema.safeParse(input)
      if (!parsed.success) return fail('VALIDATION', 'Some fields need attention.', { fields: fieldErrors(parsed.error) })
      const viewer = await getViewer()
      // Without a session nobody owns anything: answer as if the job did not exist.
      if (!viewer) return fail('NOT_FOUND', 'Your session has expired. Reload the page.')
      return await body(parsed.data, { viewer })
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        console.warn(`[action] database unavailable: ${(err as Error).message}`)
        return fail('UNAVAILABLE', 'The service is temporarily unavailable. Try again in a moment.')
      }
      const ref = randomBytes(4).toString('hex')
      console.error(`[action] unexpected error [ref ${ref}]`, err)
      return fail('INTERNAL', `Something went wrong on our side (reference ${ref}).`, { ref })
    }
  }
}
