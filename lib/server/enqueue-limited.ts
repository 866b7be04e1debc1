/**
 * Enqueueing from actions: `enqueue(pool, contract, job)` parses the payload with the queue's
 * contract and applies the queue's per-owner limit of unsettled (queued or running) jobs by
 * default, race-safe: the count and the insert happen in one transaction holding a per-owner lock,
 * so concurrent calls (many tabs, a script) can never end above the limit, on one web process or many.
 */
import type pg from 'pg'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { AnyQueueContract, PayloadInput } from '@/lib/jobs/queue'
import { withTransaction } from './db'
import { enqueueJob, type EnqueueOptions } from './enqueue'
import { countUnsettledForOwner, findJobByIdempotencyKey } from './job-store'

/** First key of the two-key advisory lock space this module uses (the second is the owner's). */
const LOCK_NAMESPACE = 'nbj.enqueue-limit'

export type LimitedEnqueue = { kind: 'enqueued'; job: JobSnapshot } | { kind: 'limited'; limit: number }

// Calls of one key in this process, chained: each waits for the previous one before it takes a
// pooled connection. Without it, N concurrent calls of one owner would each hold a connection
// while only one of them can have the owner's lock, leaving the other owners fewer connections.
const chains = new Map<string, Promise<unknown>>()

/**
 * Runs `fn` after every earlier call with the same `key` in this process has settled (whether it
 * resolved or threw). For work that takes a per-key database lock: waiters wait here, not on a
 * pooled connection.
 */
export function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = chains.get(key) ?? Promise.resolve()
  const run = previous.then(fn, fn)
  const tail = run.catch(() => undefined)
  chains.set(key, tail)
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key)
  })
  return run
}

/**
 * Creates a queued job owned by `ownerId` (like `enqueueJob`) unless the owner already has `limit`
 * or more jobs of `queue` queued or running; then answers `{ kind: 'limited' }` and creates nothing.
 * A call whose `idempotencyKey` was already accepted answers that job (`enqueued`), even at the
 * limit: a retried request must learn that it succeeded, not that it is refused.
 * Locks with `pg_advisory_xact_lock(hashtext(namespace), hashtext(queue:owner))` (released at
 * commit or rollback), plus in-process chaining per owner. Uses one connection of `pool` for the
 * whole call. Throws what `enqueueJob` throws.
 */
export async function enqueueWithinLimit(
  pool: pg.Pool,
  job: { queue: string; ownerId: string; payload: object },
  limit: number,
  options: Pick<EnqueueOptions, 'idempotencyKey'> = {},
): Promise<LimitedEnqueue> {
  const key = `${job.queue}:${job.ownerId}`
  return oneAtATime(key, () =>
    withTransaction(pool, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [LOCK_NAMESPACE, key])
      if (options.idempotencyKey) {
        const accepted = await findJobByIdempotencyKey(tx, job.ownerId, job.queue, options.idempotencyKey)
        if (accepted) return { kind: 'enqueued', job: accepted } as const
      }
      if ((await countUnsettledForOwner(tx, job.ownerId, job.queue)) >= limit)
        return { kind: 'limited', limit } as const
      return { kind: 'enqueued', job: await enqueueJob(pool, job, { ...options, tx }) } as const
    }),
  )
}

/** Options of `enqueue`. */
export interface EnqueueLimitOptions {
  /**
   * Most jobs of this queue the owner may have queued or running, this one included. Default: the
   * contract's `limitPerOwner` (5 unless the contract says otherwise). `'unlimited'` skips the count
   * and the lock: say so only where another limit already holds (a script, a per-hour quota).
   */
  limit?: number | 'unlimited'
  /** As in `enqueueJob`: repeated calls with the same key (same owner and queue) make one job. */
  idempotencyKey?: EnqueueOptions['idempotencyKey']
}

/**
 * Queues a job of `queue` for `ownerId`: the one enqueue call Server Actions use. Parses `payload`
 * with the contract's schema (throws its `ZodError` when it does not match: validate in the action
 * first to answer VALIDATION), then creates the `app.jobs` row and the pg-boss job in one
 * transaction, unless the owner already has `limit` jobs of the queue queued or running; then
 * answers `{ kind: 'limited', limit }` and creates nothing. Throws what `enqueueJob` throws
 * (`PGBOSS_QUEUE_NOT_FOUND` while no worker has created the queue yet).
 *
 * ```ts
 * const outcome = await enqueue(webPool(), exportsQueue, { ownerId: viewer.id, payload: item })
 * if (outcome.kind === 'limited') return fail('LIMITED', `At most ${outcome.limit} at once.`)
 * ```
 */
export async function enqueue<C extends AnyQueueContract>(
  pool: pg.Pool,
  queue: C,
  job: { ownerId: string; payload: PayloadInput<C> },
  options: EnqueueLimitOptions = {},
): Promise<LimitedEnqueue> {
  const payload = queue.payload.parse(job.payload) as object
  const request = { queue: queue.name, ownerId: job.ownerId, payload }
  const limit = options.limit ?? queue.limitPerOwner
  if (limit === 'unlimited')
    return { kind: 'enqueued', job: await enqueueJob(pool, request, { idempotencyKey: options.idempotencyKey }) }
  return enqueueWithinLimit(pool, request, limit, { idempotencyKey: options.idempotencyKey })
}
