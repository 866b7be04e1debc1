'use server'
/**
 * The deferred-action example: `sendWelcome` validates, stores a job on the deferred queue and
 * returns at once; the worker sends the email (workers/deferred/send-welcome-email.ts).
 */
import { sendWelcomeEmail } from '@/lib/jobs/deferred'
import type { JobSnapshot } from '@/lib/jobs/job'
import { ok, type ActionResult } from '@/lib/jobs/result'
import { defineAction } from '@/lib/server/action'
import { webPool } from '@/lib/server/db'
import { defer } from '@/lib/server/defer'

const sendWelcomeAction = defineAction(sendWelcomeEmail.schema, async ({ email }, { viewer }) => {
  // One welcome per address and viewer, however often the button is pressed: the idempotency
  // key makes repeated calls return the first job.
  const job = await defer(webPool(), sendWelcomeEmail, { email }, { ownerId: viewer.id, idempotencyKey: `welcome:${email.toLowerCase()}` })
  return ok({ job })
})

/** Queues a welcome email to `{ email }`. Returns `{ job }` (the same job for a repeated address), or VALIDATION. */
export async function sendWelcome(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return sendWelcomeAction(input)
}
