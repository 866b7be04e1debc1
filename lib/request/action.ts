/**
 * Wraps a Server Action body in the house rules: validate (`validateInput`), identify the caller
 * (an `ActionAuth`: the viewer here, the operator in operator-action.ts), act, and always answer
 * with an `ActionResult`. Expected failures are returned by the body; anything thrown becomes
 * `UNAVAILABLE` (database unreachable) or `INTERNAL` with a reference id that is logged with the
 * details (lib/server/unexpected.ts). Never a stack trace, SQL or path in the answer, in dev or production.
 */
import type { z } from 'zod'
import { fail, type ActionResult } from '@/lib/jobs/result'
import { unexpectedFailure } from '@/lib/server/unexpected'
import { getViewer, type Viewer } from './viewer'

/**
 * Maps zod issues to `{ field: [messages] }`; unknown keys are reported under their own names.
 * Built from a Map: a key such as `__proto__`, `constructor` or `toString` must become an own
 * field of the answer, not reach (or fail on) a property inherited from `Object.prototype`.
 */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields = new Map<string, string[]>()
  const add = (key: string, message: string) => {
    const messages = fields.get(key)
    if (messages) messages.push(message)
    else fields.set(key, [message])
  }
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) add(key, 'Unknown field.')
    else add(issue.path.length ? String(issue.path[0]) : 'input', issue.message)
  }
  // Object.fromEntries defines own properties, so even `__proto__` stays an ordinary field.
  return Object.fromEntries(fields)
}

/**
 * Whether `input` may be an action's fields: anything but an object that is not a plain one.
 * A Server Action's arguments are decoded by React, which can produce a `Map`, `Date`, `FormData`
 * and more: zod reads those as objects without fields (so `{}`, a valid "export everything"),
 * which would silently accept input nobody meant to send. Arrays and primitives are left to zod,
 * which names what it expected.
 */
function isPlainOrPrimitive(input: unknown): boolean {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return true
  const proto: unknown = Object.getPrototypeOf(input)
  return proto === Object.prototype || proto === null
}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Whether `value` is or holds (in plain objects and arrays, `maxDepth` levels down) a thenable. */
function holdsThenable(value: unknown, maxDepth = 16): boolean {
  if (isThenable(value)) return true
  if (maxDepth <= 0 || typeof value !== 'object' || value === null || !isPlainOrPrimitive(value)) return false
  return (Array.isArray(value) ? value : Object.values(value)).some((item) => holdsThenable(item, maxDepth - 1))
}

/**
 * Parses an action's `input` with `schema`; on failure, `fields` names every offending field
 * (`input` for the input as a whole). Before zod, two kinds of input React can decode are refused
 * by name: an object that is not a plain one (see `isPlainOrPrimitive`), and a field holding a
 * promise, since zod's synchronous parse throws on a promise a `preprocess` step returns (such a
 * field is left out of the parse, so the other fields are still checked).
 */
export function validateInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { success: true; data: z.output<S> } | { success: false; fields: Record<string, string[]> } {
  if (!isPlainOrPrimitive(input)) return { success: false, fields: { input: ['Expected an object of fields.'] } }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    if (holdsThenable(input)) return { success: false, fields: { input: ['Must be a value, not a promise.'] } }
    const parsed = schema.safeParse(input)
    return parsed.success ? { success: true, data: parsed.data } : { success: false, fields: fieldErrors(parsed.error) }
  }
  const entries = Object.entries(input)
  const promised = entries.filter(([, value]) => holdsThenable(value)).map(([key]) => key)
  const parsed = schema.safeParse(
    promised.length ? Object.fromEntries(entries.filter(([key]) => !promised.includes(key))) : input,
  )
  if (parsed.success && promised.length === 0) return { success: true, data: parsed.data }
  const fields = new Map(Object.entries(parsed.success ? {} : fieldErrors(parsed.error)))
  for (const key of promised) fields.set(key, [...(fields.get(key) ?? []), 'Must be a value, not a promise.'])
  return { success: false, fields: Object.fromEntries(fields) }
}

/**
 * Who may call an action, and how it is told no. `identify` answers the caller's context (merged
 * into the body's second argument) or `null`, which is answered `NOT_FOUND` with `refusal`: a
 * caller without the right session learns nothing, not even that the job exists.
 */
export interface ActionAuth<Context> {
  identify: () => Promise<Context | null>
  refusal: string
  /** The log tag of this kind of action's unexpected errors, e.g. `action`. */
  logTag: string
}

/** A Server Action body: the validated input and the caller's context in, an `ActionResult` out. */
export type ActionBody<S extends z.ZodType, Context, T> = (
  input: z.output<S>,
  context: Context,
) => Promise<ActionResult<T>>

/** Makes the `defineAction` of one kind of caller: validate, then `auth.identify`, then the body. */
export function defineActionFor<Context>(auth: ActionAuth<Context>) {
  return function define<S extends z.ZodType, T>(
    schema: S,
    body: ActionBody<S, Context, T>,
  ): (input: unknown) => Promise<ActionResult<T>> {
    return async (input: unknown) => {
      try {
        const parsed = validateInput(schema, input)
        if (!parsed.success) return fail('VALIDATION', 'Some fields need attention.', { fields: parsed.fields })
        const context = await auth.identify()
        if (!context) return fail('NOT_FOUND', auth.refusal)
        return await body(parsed.data, context)
      } catch (err) {
        return unexpectedFailure(auth.logTag, err).answer
      }
    }
  }
}

/**
 * A viewer's Server Action: `schema` validates the input, then the body runs with `{ viewer }`.
 * Without a session nobody owns anything: answered `NOT_FOUND`, as if the job did not exist.
 */
export const defineAction = defineActionFor<{ viewer: Viewer }>({
  identify: async () => {
    const viewer = await getViewer()
    return viewer && { viewer }
  },
  refusal: 'Your session has expired. Reload the page.',
  logTag: 'action',
})
