/**
 * The deferred-action example's rule, out of the Server Action so it can be driven with any pool:
 * one welcome email job per address and viewer, at most `WELCOME_EMAILS_PER_HOUR` new ones per
 * viewer an hour.
 */
import type pg from 'pg'
import { DEFERRED_QUEUE, sendWelcomeEmail } from '@/lib/jobs/deferred'
import type { JobSnapshot } from '@/lib/jobs/job'
import { withTransaction } from './db'
import { defer } from './defer'
import { oneAtATime } from './enqueue-limited'
import { findJobByIdempotencyKey } from './job-store'

/** Most welcome emails one viewer may request per hour: the form must not become a spam cannon. */
export const WELCOME_EMAILS_PER_HOUR = 20

/**
 * Queues a welcome email to `email` for `ownerId`, or answers `limited`. An address this viewer
 * already welcomed answers its first job (`enqueued`, idempotency key `welcome:<address>`), even
 * at the limit. Counted and enqueued in one transaction under a per-viewer advisory lock, so
 * parallel requests (any number of web processes) cannot exceed the limit; the whole call uses
 * one connection of `pool`. Throws the database's error (UNAVAILABLE for the action wrapper).
 */
export async function queueWelcomeEmail(
  pool: pg.Pool,
  ownerId: string,
  email: string,
): Promise<{ kind: 'enqueued'; job: JobSnapshot } | { kind: 'limited'; limit: number }> {
  const idempotencyKey = `welcome:${email.toLowerCase()}`
  return oneAtATime(`welcome:${ownerId}`, () =>
    withTransaction(pool, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', ['nbj.welcome-limit', ownerId])
      // Idempotency before the limit: a repeated press must hear "already sent", not "limited".
      const accepted = await findJobByIdempotencyKey(tx, ownerId, DEFERRED_QUEUE, idempotencyKey)
      if (accepted) return { kind: 'enqueued', job: accepted } as const
      const { rows } = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1 AND queue = $2 AND created_at > now() - interval '1 hour'`,
        [ownerId, DEFERRED_QUEUE],
      )
      if ((rows[0]?.n ?? 0) >= WELCOME_EMAILS_PER_HOUR)
        return { kind: 'limited', limit: WELCOME_EMAILS_PER_HOUR } as const
      const job = await defer(pool, sendWelcomeEmail, { email }, { ownerId, idempotencyKey, tx })
      return { kind: 'enqueued', job } as const
    }),
  )
}
