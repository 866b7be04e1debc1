/**
 * Producing jobs from the web tier: a producer-only pg-boss (no maintenance, no migrations, no
 * workers) that writes through the caller's connection, so the job record and the pg-boss job are
 * created in one transaction: both exist, or neither.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { PgBoss } from 'pg-boss'
import type { JobSnapshot } from '@/lib/jobs/job'
import { inTransactionScope, scopedQuery, withTransaction, type Queryable } from './db'
import { insertJob } from './job-store'
import { PGBOSS_SCHEMA, onConnection } from './pgboss'

const producers = new WeakMap<pg.Pool, Promise<PgBoss>>()

/**
 * A started producer-only pg-boss on `pool` (one per pool). Its own reads (the queue list at start,
 * a queue it has not seen yet, the periodic refresh) go through `scopedQuery`: inside a
 * transaction on `pool` they run on that transaction's connection, so a caller holding a
 * connection never waits for a second one (see `transactionScope` in db.ts).
 */
export function producerFor(pool: pg.Pool): Promise<PgBoss> {
  let producer = producers.get(pool)
  if (!producer) {
    const boss = new PgBoss({
      db: { executeSql: (text, values) => scopedQuery(pool, text, values) },
      schema: PGBOSS_SCHEMA,
      supervise: false,
      schedule: false,
      migrate: false,
      createSchema: false,
      registerInstance: false,
    })
    boss.on('error', (err) => console.warn(`[pg-boss producer] ${(err as Error).message}`))
    producer = boss.start()
    producer.catch(() => producers.delete(pool))
    producers.set(pool, producer)
  }
  return producer
}

/** Stops the producer of `pool`, if any (call before `pool.end()` in scripts and tests). */
export async function stopProducer(pool: pg.Pool): Promise<void> {
  const producer = producers.get(pool)
  producers.delete(pool)
  if (producer) await (await producer).stop({ graceful: false, close: false })
}

/** Options of `enqueueJob`. */
export interface EnqueueOptions {
  /**
   * Makes repeated calls create one job: a second call with the same key (same owner and queue)
   * returns the first job and sends nothing to pg-boss. At most 200 characters.
   */
  idempotencyKey?: string
  /**
   * Enqueue inside the caller's transaction (a client of `pool` between BEGIN and COMMIT): the job
   * exists if and only if the caller's writes commit. pg-boss accepts an external `db` for exactly
   * this. Every statement of the enqueue, pg-boss's own reads included, runs on `tx`: it never
   * takes a second connection from `pool` while yours is held.
   */
  tx?: Queryable
}

/**
 * The primitive under `enqueue` (lib/server/enqueue-limited.ts), with NO per-owner limit and no
 * payload parsing: for tests, scripts and code that holds its own limit. Server Actions use
 * `enqueue`, which parses the payload with the queue's contract and applies its limit.
 *
 * Creates a queued job owned by `ownerId`: the `app.jobs` row and the pg-boss job, with the same
 * id, in one transaction on `pool` (or in `options.tx`). Throws the database's error on failure,
 * including pg-boss's `PGBOSS_QUEUE_NOT_FOUND` while no worker has created the queue yet.
 */
export async function enqueueJob(
  pool: pg.Pool,
  job: { queue: string; ownerId: string; payload: object },
  options: EnqueueOptions = {},
): Promise<JobSnapshot> {
  const id = randomUUID()
  const run = async (db: Queryable) => {
    // Inside the transaction: a producer that still has to start reads its queue list on `db`.
    const boss = await producerFor(pool)
    const inserted = await insertJob(db, {
      id,
      queue: job.queue,
      ownerId: job.ownerId,
      payload: job.payload,
      idempotencyKey: options.idempotencyKey,
    })
    if (inserted.created) {
      await boss.send(job.queue, job.payload, { id, ...onConnection(db) })
    }
    return inserted.job
  }
  const tx = options.tx
  return tx ? inTransactionScope(pool, tx, () => run(tx)) : withTransaction(pool, run)
}
