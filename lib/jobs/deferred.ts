/**
 * Deferred actions: fire-and-forget durable work requested from a Server Action. The action's
 * contract (name + input schema) lives here, shared by both tiers; its body lives in the worker
 * (workers/deferred/). Use one when the caller only needs "it will happen": no progress, no
 * cancel button, one small step. Use a QueueService for long work with progress and cancellation.
 */
import { z } from 'zod'
import { defineQueue } from './queue'

/** The pg-boss queue every deferred action runs on. */
export const DEFERRED_QUEUE = 'deferred'

/** A deferred action's contract: a unique snake_case `name`, the zod schema of its input, a title for people. */
export interface DeferredAction<Input> {
  readonly name: string
  readonly schema: z.ZodType<Input>
  /** The job's title in lists ("Welcome email to ada@example.com"), from the parsed input. */
  title(input: Input): string
}

/**
 * Declares a deferred action. `name` is stored with each job: never rename one with jobs queued.
 * `options.title` titles its jobs (default "Deferred action <name>"). Throws an `Error` when
 * `name` is not snake_case (1-63 characters). List it in `deferredActions` (lib/jobs/registry.ts).
 */
export function defineDeferred<Input>(
  name: string,
  schema: z.ZodType<Input>,
  options: { title?: (input: Input) => string } = {},
): DeferredAction<Input> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`deferred action name must be snake_case: ${name}`)
  return Object.freeze({ name, schema, title: options.title ?? (() => `Deferred action ${name}`) })
}

/** Deferred actions by name, as listed in the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DeferredActions = Record<string, DeferredAction<any>>

/** The payload of a job on the deferred queue. `input` is re-parsed by the action's schema in the worker. */
export const DeferredItem = z.strictObject({ action: z.string(), input: z.unknown() })
export type DeferredItem = z.infer<typeof DeferredItem>

/**
 * The contract of the queue every deferred action runs on, titled by the action's own title. Its
 * options are the deferred retry policy: 4 retries with backoff from 10 s, 5 minutes an attempt.
 * Throws an `Error` when a key of `actions` differs from its action's name.
 */
export function deferredQueueOf(actions: DeferredActions) {
  for (const [key, action] of Object.entries(actions))
    if (key !== action.name) throw new Error(`deferred action key ${key} must be its name (${action.name})`)
  return defineQueue({
    name: DEFERRED_QUEUE,
    label: 'Deferred action',
    payload: DeferredItem,
    title: (item) => {
      const action = actions[item.action]
      if (!action) return `Deferred action ${item.action}`
      const input = action.schema.safeParse(item.input)
      return input.success ? action.title(input.data) : `Deferred action ${item.action}`
    },
    options: { retryLimit: 4, retryDelay: 10, retryBackoff: true, expireInSeconds: 5 * 60 },
    // Deferred actions are rate-limited by their own actions (e.g. welcome emails per hour).
    limitPerOwner: 100,
  })
}

/** The example: a welcome email to `email`. Body: workers/deferred/send-welcome-email.ts. */
export const sendWelcomeEmail = defineDeferred(
  'send_welcome_email',
  z.strictObject({ email: z.email({ error: 'Enter an email address, like ada@example.com.' }).max(254) }),
  { title: ({ email }) => `Welcome email to ${email}` },
)
