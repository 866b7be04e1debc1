/**
 * Scenario 1, `throughput.noop`: no-op jobs at a total concurrency of 10 through the template's
 * worker, raw pg-boss `work()` and graphile-worker, in the same database, one after the other.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Logger as GraphileLogger, makeWorkerUtils, run as runGraphile } from 'graphile-worker'
import type pg from 'pg'
import { PgBoss } from 'pg-boss'
import { withTransaction } from '@/lib/server/db'
import { producerFor } from '@/lib/server/enqueue'
import { PGBOSS_SCHEMA, countBossJobs, onConnection } from '@/lib/server/pgboss'
import { NOOP_QUEUE } from './queues'
import { compared, figure, type ScenarioResult } from './report'

export interface ThroughputOptions {
  url: string
  /** The bench's pool (enqueueing and counting); the systems under test have their own. */
  pool: pg.Pool
  /** Jobs per timed run. */
  jobs: number
  /** Jobs per enqueue transaction. */
  batch: number
  /** Untimed jobs run first through each system (JIT, pools, caches). */
  warmup: number
  /** Timed runs of the template and of graphile-worker, alternating which goes first; the best counts. */
  rounds: number
  /** Longest a timed run of the template or graphile-worker may take before its rate so far is reported, in ms. */
  deadlineMs: number
  /** The same for raw pg-boss, which runs once: its rate is set by its polling, not by noise. */
  pgBossDeadlineMs: number
}

/** Milliseconds between two completion counts: the resolution of the end of each run. */
const POLL_MS = 50
/** Concurrency of every system, as issue 4 asks. */
const CONCURRENCY = 10

interface Outcome {
  completed: number
  elapsedMs: number
  timedOut: boolean
}

interface System {
  enqueue(count: number): Promise<void>
  /** Jobs not settled yet. */
  remaining(): Promise<number>
  /** Jobs completed since the system started (including warm-up). */
  completed(): Promise<number>
}

/**
 * Enqueues `jobs` in batches, then counts until none remain or `deadlineMs` passed since the first
 * enqueue. The rate covers first enqueue to last completion (to within POLL_MS).
 */
async function drive(system: System, jobs: number, batch: number, deadlineMs: number): Promise<Outcome> {
  const before = await system.completed()
  const started = performance.now()
  for (let sent = 0; sent < jobs; sent += batch) await system.enqueue(Math.min(batch, jobs - sent))
  let timedOut = false
  while ((await system.remaining()) > 0) {
    if (performance.now() - started > deadlineMs) {
      timedOut = true
      break
    }
    await sleep(POLL_MS)
  }
  const elapsedMs = performance.now() - started
  return { completed: (await system.completed()) - before, elapsedMs, timedOut }
}

function rate(o: Outcome): number {
  return o.completed / (o.elapsedMs / 1000)
}

function describe(label: string, runs: Outcome[], jobs: number): string {
  const each = runs.map(
    (o) =>
      `${Math.round(rate(o)).toLocaleString('en-US')} jobs/s${o.timedOut ? ` (${o.completed.toLocaleString('en-US')} of ${jobs.toLocaleString('en-US')} done at the deadline)` : ''}`,
  )
  return `${label}: ${each.join(', ')}`
}

/**
 * Creates `count` jobs the way `enqueueJob` does (an `app.jobs` row and a pg-boss job with the same
 * id, in one transaction), with one INSERT and one pg-boss `insert` per batch instead of per job.
 */
export async function enqueueBatch(pool: pg.Pool, queue: string, ownerId: string, count: number): Promise<void> {
  const boss = await producerFor(pool)
  const ids = Array.from({ length: count }, () => randomUUID())
  await withTransaction(pool, async (db) => {
    await db.query(
      `INSERT INTO app.jobs (id, queue, owner_id, payload) SELECT id, $2, $3, '{}'::jsonb FROM unnest($1::uuid[]) AS t(id)`,
      [ids, queue, ownerId],
    )
    await boss.insert(
      queue,
      ids.map((id) => ({ id, data: {} })),
      onConnection(db),
    )
  })
}

/** The template: startWorker's QueueRunner with a no-op QueueService (already running in this process). */
function template(pool: pg.Pool): System {
  const owner = randomUUID()
  return {
    enqueue: (count) => enqueueBatch(pool, NOOP_QUEUE, owner, count),
    remaining: async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM app.jobs WHERE queue = $1 AND state IN ('queued', 'active')`,
          [NOOP_QUEUE],
        )
      ).rows[0]!.n,
    completed: async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1 AND state = 'completed'`,
          [owner],
        )
      ).rows[0]!.n,
  }
}

async function withPgBoss<T>(url: string, fn: (system: System) => Promise<T>): Promise<T> {
  const queue = 'bench_pgboss_noop'
  // Its own instance on the same schema, with pg-boss's LISTEN/NOTIFY wake-ups on (the template
  // wakes on its own job-change NOTIFY instead).
  const boss = new PgBoss({
    connectionString: url,
    schema: PGBOSS_SCHEMA,
    useListenNotify: true,
    application_name: 'nbj-bench-pgboss',
    max: 10,
  })
  boss.on('error', (err) => console.warn(`[bench pg-boss] ${(err as Error).message}`))
  await boss.start()
  try {
    await boss.createQueue(queue, { notify: true })
    // The shortest polling pg-boss allows (0.5 s, also as the backstop while NOTIFY is on, which
    // defaults to 30 s): the most favourable setting for it at one job per fetch.
    await boss.work(
      queue,
      { localConcurrency: CONCURRENCY, batchSize: 1, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
      async () => undefined,
    )
    const count = (states: string) => countBossJobs(boss.getDb(), queue, states.split(','))
    return await fn({
      enqueue: async (n) =>
        void (await boss.insert(
          queue,
          Array.from({ length: n }, () => ({ data: {} })),
        )),
      remaining: () => count('created,retry,active'),
      completed: () => count('completed'),
    })
  } finally {
    await boss.offWork(queue, { wait: false }).catch(() => undefined)
    await boss.stop({ graceful: false, close: true })
  }
}

async function withGraphile<T>(url: string, fn: (system: System) => Promise<T>): Promise<T> {
  const task = 'bench_noop'
  // Errors only: its info lines would drown the bench's output.
  const logger = new GraphileLogger(() => (level, message) => {
    if (level === 'error') console.error(`[bench graphile-worker] ${message}`)
  })
  const utils = await makeWorkerUtils({ connectionString: url, logger })
  try {
    await utils.migrate()
    const runner = await runGraphile({
      connectionString: url,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger,
      taskList: { [task]: async () => undefined },
    })
    // graphile-worker deletes a job when it completes (its events fire before that commits), so
    // completed = added - still in the table; a no-op job cannot fail.
    let added = 0
    const remaining = async () =>
      (
        await utils.withPgClient((client) =>
          client.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker._private_jobs'),
        )
      ).rows[0]!.n
    try {
      return await fn({
        enqueue: async (n) => {
          await utils.addJobs(Array.from({ length: n }, () => ({ identifier: task, payload: {} })))
          added += n
        },
        remaining,
        completed: async () => added - (await remaining()),
      })
    } finally {
      await runner.stop()
    }
  } finally {
    await utils.release()
  }
}

/**
 * Cleans up after whatever ran before, so one system's dead rows and dirty pages are not vacuumed
 * and flushed on the next one's clock. CHECKPOINT needs a privileged role: skipped without one.
 */
async function quiesce(pool: pg.Pool): Promise<void> {
  await pool.query('VACUUM (ANALYZE)')
  await pool.query('CHECKPOINT').catch(() => undefined)
}

/** The run with the highest rate: on a shared machine, noise only ever slows a run down. */
function best(runs: Outcome[]): Outcome {
  return runs.reduce((a, b) => (rate(b) > rate(a) ? b : a))
}

/**
 * Runs the template and graphile-worker in alternating rounds (both started, each idle while the
 * other runs), then raw pg-boss once, slowest last and bounded by its deadline.
 */
export async function throughputScenario(o: ThroughputOptions): Promise<ScenarioResult> {
  const ours: Outcome[] = []
  const graphile: Outcome[] = []
  await withGraphile(o.url, async (graphileSystem) => {
    const contenders = [
      { system: template(o.pool), runs: ours },
      { system: graphileSystem, runs: graphile },
    ]
    for (const { system } of contenders) await drive(system, o.warmup, o.batch, Math.min(o.deadlineMs, 5_000))
    for (let round = 0; round < o.rounds; round++) {
      for (const { system, runs } of round % 2 === 0 ? contenders : [...contenders].reverse()) {
        await quiesce(o.pool)
        runs.push(await drive(system, o.jobs, o.batch, o.deadlineMs))
      }
    }
  })
  const pgboss = await withPgBoss(o.url, async (system) => {
    await drive(system, o.warmup, o.batch, Math.min(o.pgBossDeadlineMs, 5_000))
    await quiesce(o.pool)
    return drive(system, o.jobs, o.batch, o.pgBossDeadlineMs)
  })
  const oursRate = rate(best(ours))
  return {
    measurements: [
      figure('throughput.noop', oursRate, 'jobs/s'),
      compared('throughput.noop.vs_pgboss', oursRate, 'jobs/s', 'pg-boss work()', rate(pgboss)),
      compared('throughput.noop.vs_graphile', oursRate, 'jobs/s', 'graphile-worker', rate(best(graphile))),
    ],
    notes: [
      describe('throughput, template (QueueRunner, workerCount 10, shipped timing), per round', ours, o.jobs),
      describe('throughput, graphile-worker 0.18 (concurrency 10, default options), per round', graphile, o.jobs),
      describe(
        'throughput, pg-boss work() (localConcurrency 10, batchSize 1, notify on, polling every 0.5 s)',
        [pgboss],
        o.jobs,
      ),
      `throughput: ${o.jobs.toLocaleString('en-US')} jobs per run, enqueued in batches of ${o.batch} (one transaction each), after ${o.warmup} untimed warm-up jobs; ` +
        `VACUUM and CHECKPOINT before each timed run; the best of ${o.rounds} alternating rounds counts`,
    ],
  }
}
