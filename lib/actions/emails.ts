'use server'
/**
 * The deferred-action example: `sendWelcome` validates, stores a job on the deferred queue and
 * returns at once; the worker sends the email (workers/deferred/send-welcome-email.ts).
 */
import { sendWelcomeEmail } from '@/lib/jobs/deferred'
import type { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok, type ActionResult } from '@/lib/jobs/result'
import { defineAction } from '@/lib/request/action'
import { webPool } from '@/lib/server/db'
import { queueWelcomeEmail } from '@/lib/server/welcome-emails'

const sendWelcomeAction = defineAction(sendWelcomeEmail.schema, async ({ email }, { viewer }) => {
  const outcome = await queueWelcomeEmail(webPool(), viewer.id, email)
  return outcome.kind === 'enqueued'
    ? ok({ job: outcome.job })
    : fail('LIMITED', `You can send at most ${outcome.limit} welcome emails an hour.`)
})

/** Queues a welcome email to `{ email }`. Returns `{ job }` (the same job for a repeated address), or VALIDATION, LIMITED. */
export async function sendWelcome(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return sendWelcomeAction(input)
}
