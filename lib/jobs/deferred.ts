/**
 * Deferred actions: fire-and-forget durable work requested from a Server Action. The action's
 * contract (name + input schema) lives here, shared by both tiers; its body lives in the worker
 * (workers/deferred/). Use one when the caller only needs "it will happen": no progress, no
 * cancel button, one small step. Use a QueueService for long work with progress and cancellation.
 */
import { z } from 'zod'

/** The pg-boss queue every deferred action runs on. */
export const DEFERRED_QUEUE = 'deferred'

/** A deferred action's contract: a unique snake_case `name` and the zod schema of its input. */
export interface DeferredAction<Input> {
  readonly name: string
  readonly schema: z.ZodType<Input>
}

/** Declares a deferred action. `name` is stored with each job: never rename one with jobs queued. */
export function defineDeferred<Input>(name: string, schema: z.ZodType<Input>): DeferredAction<Input> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`deferred action name must be snake_case: ${name}`)
  return { name, schema }
}

/** The payload of a job on the deferred queue. `input` is re-parsed by the action's schema in the worker. */
export const DeferredItem = z.strictObject({ action: z.string(), input: z.unknown() })
export type DeferredItem = z.infer<typeof DeferredItem>

/** The example: a welcome email to `email`. Body: workers/deferred/send-welcome-email.ts. */
export const sendWelcomeEmail = defineDeferred(
  'send_welcome_email',
  z.strictObject({ email: z.email({ error: 'Enter an email address, like ada@example.com.' }).max(254) }),
)
