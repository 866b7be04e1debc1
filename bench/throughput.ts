/**
 * Scenario 1, `throughput.noop`: no-op jobs at a total concurrency of 10 through the template's
 * worker, raw pg-boss `work()`, graphile-worker and BullMQ (Redis and PostgreSQL backends), in the
 * same database, one after the other; at one backlog size or several (`points`, the scaling curve).
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
import { bullLabel, withBullMQ, type BullBackend } from './bullmq'
import { NOOP_QUEUE } from './queues'
import { compared, figure, percentile, type Measurement, type ScenarioResult } from './report'

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
  /**
   * Backlog sizes (jobs enqueued per timed run) of the scaling curve; default `[jobs]`. Points above
   * `jobs` run one round each, with a deadline of at least 1.2 ms per job. Figures `curve.throughput.*`.
   */
  points?: readonly number[]
  /** BullMQ backends to run beside the others (the caller leaves out one that cannot run). Default none. */
  bullmq?: readonly BullBackend[]
  /**
   * Started just before the template's first timed run at each point and stopped when it ends: samples
   * dispatch latency (ms) of another queue while the backlog drains. Figures `curve.dispatch_under_load.*`.
   */
  loadProbe?: () => { stop(): Promise<number[]> }
}

/** Fewest milliseconds between two counts of what is left: the resolution of the end of each run. */
const POLL_MS = 50
/** Most milliseconds between two counts, however large the backlog. */
const MAX_POLL_MS = 2_000
/** Concurrency of every system, as issue 4 asks. */
const CONCURRENCY = 10

interface Outcome {
  completed: number
  elapsedMs: number
  timedOut: boolean
}

/** One system under test, as the throughput runs drive it. */
export interface ThroughputSystem {
  enqueue(count: number): Promise<void>
  /** Jobs not settled yet. */
  remaining(): Promise<number>
  /** Jobs completed since the system started (including warm-up). */
  completed(): Promise<number>
  /**
   * Deletes the jobs a run left queued when it hit its deadline, so they neither run during the next
   * system's run nor count toward the next run of this one. Jobs already running finish.
   */
  discard(): Promise<void>
}

/**
 * How long to wait before counting again, given `left` jobs of `jobs` after `elapsedMs`: half the
 * time the rest should take at the rate so far, between POLL_MS and MAX_POLL_MS. Counting is not
 * free (a count over 200,000 queued rows and their dead index entries takes hundreds of ms of the
 * same two cores the systems run on), so a large backlog is counted a few dozen times instead of
 * every POLL_MS, while the end of every run is still seen to within POLL_MS.
 */
function nextPollMs(jobs: number, left: number, elapsedMs: number): number {
  const done = jobs - left
  if (done <= 0 || elapsedMs <= 0) return POLL_MS
  const restMs = (left * elapsedMs) / done
  return Math.min(MAX_POLL_MS, Math.max(POLL_MS, restMs / 2))
}

/**
 * Enqueues `jobs` in batches, then counts until none remain or `deadlineMs` passed since the first
 * enqueue. The rate covers first enqueue to last completion (to within POLL_MS).
 */
async function drive(system: ThroughputSystem, jobs: number, batch: number, deadlineMs: number): Promise<Outcome> {
  const before = await system.completed()
  const started = performance.now()
  for (let sent = 0; sent < jobs; sent += batch) await system.enqueue(Math.min(batch, jobs - sent))
  let timedOut = false
  for (let left = await system.remaining(); left > 0; left = await system.remaining()) {
    const elapsedMs = performance.now() - started
    if (elapsedMs > deadlineMs) {
      timedOut = true
      break
    }
    await sleep(Math.min(nextPollMs(jobs, left, elapsedMs), Math.max(0, deadlineMs - elapsedMs) + POLL_MS))
  }
  const elapsedMs = performance.now() - started
  const completed = (await system.completed()) - before
  if (timedOut) await system.discard()
  return { completed, elapsedMs, timedOut }
}

function rate(outcome: Outcome): number {
  return outcome.completed / (outcome.elapsedMs / 1000)
}

function describe(label: string, runs: Outcome[], jobs: number): string {
  const each = runs.map(
    (run) =>
      `${Math.round(rate(run)).toLocaleString('en-US')} jobs/s${run.timedOut ? ` (${run.completed.toLocaleString('en-US')} of ${jobs.toLocaleString('en-US')} done at the deadline)` : ''}`,
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
function template(pool: pg.Pool): ThroughputSystem {
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
    // One statement: a job pg-boss has not handed out yet goes from both tables; one the runner
    // fetched meanwhile is no longer 'created' (fetch skips the rows this DELETE locks) and stays.
    discard: async () =>
      void (await pool.query(
        `WITH gone AS (DELETE FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND state = 'created' RETURNING id)
         DELETE FROM app.jobs WHERE id IN (SELECT id FROM gone)`,
        [NOOP_QUEUE],
      )),
  }
}

async function withPgBoss<T>(url: string, fn: (system: ThroughputSystem) => Promise<T>): Promise<T> {
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
      discard: async () =>
        void (await boss
          .getDb()
          .executeSql(`DELETE FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND state IN ('created', 'retry')`, [queue])),
    })
  } finally {
    await boss.offWork(queue, { wait: false }).catch(() => undefined)
    await boss.stop({ graceful: false, close: true })
  }
}

async function withGraphile<T>(url: string, fn: (system: ThroughputSystem) => Promise<T>): Promise<T> {
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
        // Deleted jobs never ran: take them out of `added` so they are not counted as completed.
        discard: async () => {
          const { rowCount } = await utils.withPgClient((client) =>
            client.query('DELETE FROM graphile_worker._private_jobs WHERE locked_at IS NULL'),
          )
          added -= rowCount ?? 0
        },
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
export async function quiesce(pool: pg.Pool): Promise<void> {
  await pool.query('VACUUM (ANALYZE)')
  await pool.query('CHECKPOINT').catch(() => undefined)
}

/** The run with the highest rate: on a shared machine, noise only ever slows a run down. */
function best(runs: Outcome[]): Outcome {
  return runs.reduce((a, b) => (rate(b) > rate(a) ? b : a))
}

/** Stable name of a system in the `curve.throughput.<system>.<jobs>` figures. */
type SystemKey = 'template' | 'graphile' | 'pgboss' | 'bullmq_redis' | 'bullmq_pg'

const LABELS: Record<SystemKey, string> = {
  template: 'template',
  graphile: 'graphile-worker',
  pgboss: 'pg-boss work()',
  bullmq_redis: 'BullMQ (Redis)',
  bullmq_pg: 'BullMQ (PostgreSQL)',
}

/** Runs `fn` with every BullMQ backend in `backends` started (nested, so all are idle but one at a time). */
async function withBullMQs<T>(
  backends: readonly BullBackend[],
  fn: (systems: { key: SystemKey; system: ThroughputSystem }[]) => Promise<T>,
  started: { key: SystemKey; system: ThroughputSystem }[] = [],
): Promise<T> {
  const [first, ...rest] = backends
  if (!first) return fn(started)
  const key: SystemKey = first.kind === 'redis' ? 'bullmq_redis' : 'bullmq_pg'
  return withBullMQ(first, CONCURRENCY, (system) => withBullMQs(rest, fn, [...started, { key, system }]))
}

/**
 * Runs the template, graphile-worker and the BullMQ backends in rotating rounds at each backlog size
 * (all started, each idle while another runs), then raw pg-boss once per size, slowest last and
 * bounded by its deadline.
 */
export async function throughputScenario(options: ThroughputOptions): Promise<ScenarioResult> {
  const points = [...(options.points ?? [options.jobs])].sort((a, b) => a - b)
  const runs = new Map<string, Outcome[]>()
  const runsOf = (key: SystemKey, jobs: number) => {
    const k = `${key}.${jobs}`
    if (!runs.has(k)) runs.set(k, [])
    return runs.get(k)!
  }
  const underLoad = new Map<number, number[]>()
  const deadlineFor = (jobs: number) => Math.max(options.deadlineMs, jobs * 1.2)
  await withGraphile(options.url, (graphileSystem) =>
    withBullMQs(options.bullmq ?? [], async (bullSystems) => {
      const contenders: { key: SystemKey; system: ThroughputSystem }[] = [
        { key: 'template', system: template(options.pool) },
        { key: 'graphile', system: graphileSystem },
        ...bullSystems,
      ]
      for (const { system } of contenders)
        await drive(system, options.warmup, options.batch, Math.min(options.deadlineMs, 5_000))
      for (const jobs of points) {
        const rounds = jobs > options.jobs ? 1 : options.rounds
        for (let round = 0; round < rounds; round++) {
          // Rotate who goes first, so no system always runs on the freshest database.
          const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
          for (const { key, system } of order) {
            await quiesce(options.pool)
            const probe = key === 'template' && round === 0 ? options.loadProbe?.() : undefined
            runsOf(key, jobs).push(await drive(system, jobs, options.batch, deadlineFor(jobs)))
            if (probe) underLoad.set(jobs, await probe.stop())
          }
        }
      }
    }),
  )
  await withPgBoss(options.url, async (system) => {
    await drive(system, options.warmup, options.batch, Math.min(options.pgBossDeadlineMs, 5_000))
    for (const jobs of points) {
      await quiesce(options.pool)
      runsOf('pgboss', jobs).push(await drive(system, jobs, options.batch, options.pgBossDeadlineMs))
    }
  })

  const rateAt = (key: SystemKey, jobs: number) => {
    const r = runs.get(`${key}.${jobs}`)
    return r?.length ? rate(best(r)) : null
  }
  const primary = points.includes(options.jobs) ? options.jobs : points[points.length - 1]!
  const oursRate = rateAt('template', primary)!
  const measurements: Measurement[] = [
    figure('throughput.noop', oursRate, 'jobs/s'),
    compared('throughput.noop.vs_pgboss', oursRate, 'jobs/s', 'pg-boss work()', rateAt('pgboss', primary)!),
    compared('throughput.noop.vs_graphile', oursRate, 'jobs/s', 'graphile-worker', rateAt('graphile', primary)!),
  ]
  for (const [key, name] of [
    ['bullmq_redis', 'throughput.noop.vs_bullmq_redis'],
    ['bullmq_pg', 'throughput.noop.vs_bullmq_pg'],
  ] as const) {
    const theirs = rateAt(key, primary)
    if (theirs !== null) measurements.push(compared(name, oursRate, 'jobs/s', LABELS[key], theirs))
  }
  if (points.length > 1) {
    const first = points[0]!
    const last = points[points.length - 1]!
    measurements.push(
      compared(
        'throughput.noop.flat',
        rateAt('template', last)!,
        'jobs/s',
        `template at ${first.toLocaleString('en-US')} jobs`,
        rateAt('template', first)!,
      ),
    )
  }
  for (const jobs of points) {
    for (const key of Object.keys(LABELS) as SystemKey[]) {
      const r = rateAt(key, jobs)
      if (r !== null) measurements.push(figure(`curve.throughput.${key}.${jobs}`, r, 'jobs/s'))
    }
    const samples = underLoad.get(jobs)
    if (samples?.length) {
      measurements.push(figure(`curve.dispatch_under_load.p50.${jobs}`, percentile(samples, 0.5), 'ms'))
      measurements.push(figure(`curve.dispatch_under_load.p99.${jobs}`, percentile(samples, 0.99), 'ms'))
    }
  }

  const notes: string[] = []
  for (const jobs of points) {
    const at = `${jobs.toLocaleString('en-US')} jobs`
    notes.push(
      describe(
        `throughput at ${at}, template (QueueRunner, workerCount 10, shipped timing), per round`,
        runsOf('template', jobs),
        jobs,
      ),
    )
    notes.push(
      describe(
        `throughput at ${at}, graphile-worker 0.18 (concurrency 10, default options), per round`,
        runsOf('graphile', jobs),
        jobs,
      ),
    )
    for (const backend of options.bullmq ?? []) {
      const key: SystemKey = backend.kind === 'redis' ? 'bullmq_redis' : 'bullmq_pg'
      notes.push(
        describe(
          `throughput at ${at}, ${bullLabel(backend)} 6.7 (Worker concurrency 10, default options), per round`,
          runsOf(key, jobs),
          jobs,
        ),
      )
    }
    notes.push(
      describe(
        `throughput at ${at}, pg-boss work() (localConcurrency 10, batchSize 1, notify on, polling every 0.5 s)`,
        runsOf('pgboss', jobs),
        jobs,
      ),
    )
    const samples = underLoad.get(jobs)
    if (samples?.length)
      notes.push(
        `dispatch under load at ${at}: a probe queue's job enqueued while the template drains the backlog, p50 ${percentile(samples, 0.5).toFixed(2)} ms, p99 ${percentile(samples, 0.99).toFixed(2)} ms, n = ${samples.length}`,
      )
  }
  notes.push(
    `throughput: enqueued in batches of ${options.batch} (one transaction each), after ${options.warmup} untimed warm-up jobs per system; ` +
      `VACUUM and CHECKPOINT before each timed run; the best of ${options.rounds} rotating rounds counts (one round above ${options.jobs.toLocaleString('en-US')} jobs); ` +
      `a run that hits its deadline reports its rate so far`,
  )
  return { measurements, notes }
}
