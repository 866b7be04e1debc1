'use server'
/**
 * The deferred-action example: `sendWelcome` validates, stores a job on the deferred queue and
 * returns at once; the worker sends the email (workers/deferred/send-welcome-email.ts).
 */
import { DEFERRED_QUEUE, sendWelcomeEmail } from '@/lib/jobs/deferred'
import type { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok, type ActionResult } from '@/lib/jobs/result'
import { defineAction } from '@/lib/server/action'
import { webPool, withTransaction } from '@/lib/server/db'
import { defer } from '@/lib/server/defer'

/** Most welcome emails one viewer may request per hour: the form must not become a spam cannon. */
const WELCOME_EMAILS_PER_HOUR = 20

const sendWelcomeAction = defineAction(sendWelcomeEmail.schema, async ({ email }, { viewer }) => {
  const pool = webPool()
  const job = await withTransaction(pool, async (tx) => {
    // Counted and enqueued under a per-viewer lock, so parallel requests cannot exceed the limit.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', ['nbj.welcome-limit', viewer.id])
    const { rows } = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1 AND queue = $2 AND created_at > now() - interval '1 hour'`,
      [viewer.id, DEFERRED_QUEUE],
    )
    if ((rows[0]?.n ?? 0) >= WELCOME_EMAILS_PER_HOUR) return null
    // One welcome per address and viewer, however often the button is pressed: the idempotency
    // key makes repeated calls return the first job.
    return defer(
      pool,
      sendWelcomeEmail,
      { email },
      { ownerId: viewer.id, idempotencyKey: `welcome:${email.toLowerCase()}`, tx },
    )
  })
  return job ? ok({ job }) : fail('LIMITED', `You can send at most ${WELCOME_EMAILS_PER_HOUR} welcome emails an hour.`)
})

/** Queues a welcome email to `{ email }`. Returns `{ job }` (the same job for a repeated address), or VALIDATION, LIMITED. */
export async function sendWelcome(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return sendWelcomeAction(input)
}
