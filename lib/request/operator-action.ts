/**
 * `defineAction` for the operator view: the same validation and result shape, but it requires a
 * signed-in operator instead of a viewer (NOT_FOUND otherwise, so /admin reveals nothing).
 */
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { fail, type ActionResult } from '@/lib/jobs/result'
import { validateInput } from './action'
import { isDatabaseUnavailable } from '@/lib/server/db'
import { getOperator, type Operator } from './operator'

export function defineOperatorAction<S extends z.ZodType, T>(
  schema: S,
  body: (input: z.output<S>, context: { operator: Operator }) => Promise<ActionResult<T>>,
): (input: unknown) => Promise<ActionResult<T>> {
  return async (input: unknown) => {
    try {
      const parsed = validateInput(schema, input)
      if (!parsed.success) return fail('VALIDATION', 'Some fields need attention.', { fields: parsed.fields })
      const operator = await getOperator()
      if (!operator) return fail('NOT_FOUND', 'Sign in as an operator first.')
      return await body(parsed.data, { operator })
    } catch (err) {
      if (isDatabaseUnavailable(err))
        return fail('UNAVAILABLE', 'The service is temporarily unavailable. Try again in a moment.')
      const ref = randomBytes(4).toString('hex')
      console.error(`[operator action] unexpected error [ref ${ref}]`, err)
      return fail('INTERNAL', `Something went wrong on our side (reference ${ref}).`, { ref })
    }
  }
}
