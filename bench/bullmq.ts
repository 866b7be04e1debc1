/**
 * BullMQ 6 as a peer of the template: its Redis backend (on `redisUrl`) and its PostgreSQL backend
 * (`createPostgresBackend`, schema `bullmq` in the bench's database, migrated on connect). One Queue and
 * one Worker per run, in this process; every key or table it writes is removed when the run ends.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { Queue, Worker, createPostgresBackend, type Job, type JobType } from 'bullmq'
import { Redis } from 'ioredis'
import { figure, percentile, type Measurement, type ScenarioResult } from './report'
import type { ThroughputSystem } from './throughput'

/** Which BullMQ backend a run uses. */
export type BullBackend = { kind: 'redis'; url: string } | { kind: 'postgres'; url: string }

/** Schema the PostgreSQL backend creates its tables in (its default would be `bullmq` too; named so it shows). */
const PG_SCHEMA = 'bullmq'

export function bullLabel(backend: BullBackend): string {
  return backend.kind === 'redis' ? 'BullMQ (Redis)' : 'BullMQ (PostgreSQL)'
}

/**
 * Whether a Redis server answers PING at `url` within 2 s: the bench skips the Redis peer (and says so)
 * when none does. Never retries; the connection is closed either way.
 */
export async function redisAvailable(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

/** What the bench uses of a Queue, whichever backend holds it. */
interface BullQueue {
  add(name: string, data: object): Promise<unknown>
  addBulk(jobs: { name: string; data: object }[]): Promise<unknown>
  getJobCounts(...types: JobType[]): Promise<Record<string, number>>
  obliterate(opts: { force: boolean }): Promise<void>
  drain(delayed?: boolean): Promise<void>
  waitUntilReady(): Promise<unknown>
  close(): Promise<void>
  on(event: 'error', listener: (err: Error) => void): unknown
}

/** What the bench uses of a Worker, whichever backend feeds it. */
interface BullWorker {
  waitUntilReady(): Promise<unknown>
  close(force?: boolean): Promise<void>
  on(event: 'error', listener: (err: Error) => void): unknown
}

/** Redis: a key prefix of this run's own (the server is shared; only these keys are ever deleted). */
function makeQueue(backend: BullBackend, name: string, prefix: string): BullQueue {
  if (backend.kind === 'redis') return new Queue(name, { connection: redisOptions(backend.url), prefix })
  return new Queue(
    name,
    { connection: { connectionString: backend.url, schema: PG_SCHEMA, migrate: true } },
    createPostgresBackend,
  )
}

function makeWorker(
  backend: BullBackend,
  name: string,
  prefix: string,
  concurrency: number,
  processor: (job: Job) => Promise<unknown>,
): BullWorker {
  if (backend.kind === 'redis')
    return new Worker(name, processor, { connection: redisOptions(backend.url), prefix, concurrency })
  return new Worker(
    name,
    processor,
    { connection: { connectionString: backend.url, schema: PG_SCHEMA, migrate: true }, concurrency },
    createPostgresBackend,
  )
}

/** BullMQ's Worker needs `maxRetriesPerRequest: null` on its blocking Redis connection. */
function redisOptions(url: string) {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    password: u.password || undefined,
    db: Number(u.pathname.slice(1) || 0),
    maxRetriesPerRequest: null,
  }
}

/**
 * Runs `fn` with a BullMQ queue of no-op jobs worked at `concurrency`, then closes it and obliterates
 * the queue (its keys or rows). Default options otherwise: completed jobs are kept (counted below).
 */
export async function withBullMQ<T>(
  backend: BullBackend,
  concurrency: number,
  fn: (system: ThroughputSystem) => Promise<T>,
): Promise<T> {
  const name = `bench_noop_${randomUUID().slice(0, 8)}`
  const prefix = `nbj-bench-${process.pid}`
  const queue = makeQueue(backend, name, prefix)
  queue.on('error', (err) => console.warn(`[bench ${bullLabel(backend)}] ${err.message}`))
  await queue.waitUntilReady()
  const worker = makeWorker(backend, name, prefix, concurrency, async () => undefined)
  worker.on('error', (err) => console.warn(`[bench ${bullLabel(backend)}] ${err.message}`))
  try {
    await worker.waitUntilReady()
    const counts = async (...types: JobType[]) =>
      Object.values(await queue.getJobCounts(...types)).reduce((a, b) => a + b, 0)
    return await fn({
      enqueue: async (n) => void (await queue.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: {} })))),
      remaining: () => counts('wait', 'active', 'prioritized', 'delayed', 'waiting-children'),
      completed: () => counts('completed'),
      discard: () => queue.drain(true),
    })
  } finally {
    await worker.close(true)
    await queue.obliterate({ force: true }).catch(() => undefined)
    await queue.close()
  }
}

/**
 * Dispatch latency of BullMQ: `add` resolving to the processor starting, one job at a time, idle
 * between samples (as the template's `dispatchScenario`). Returns milliseconds per sample.
 */
export async function bullDispatchSamples(backend: BullBackend, samples: number, warmup: number): Promise<number[]> {
  const name = `bench_probe_${randomUUID().slice(0, 8)}`
  const prefix = `nbj-bench-${process.pid}`
  const queue = makeQueue(backend, name, prefix)
  queue.on('error', (err) => console.warn(`[bench ${bullLabel(backend)}] ${err.message}`))
  let started: ((at: number) => void) | null = null
  const worker = makeWorker(backend, name, prefix, 1, async () => {
    const at = performance.now()
    started?.(at)
  })
  worker.on('error', (err) => console.warn(`[bench ${bullLabel(backend)}] ${err.message}`))
  const out: number[] = []
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    for (let i = 0; i < samples + warmup; i++) {
      const startedAt = new Promise<number>((resolve) => (started = resolve))
      await queue.add('probe', {})
      const added = performance.now()
      const at = await withTimeout(startedAt, 15_000, `${bullLabel(backend)} dispatch probe`)
      if (i >= warmup) out.push(Math.max(0, at - added))
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 20))
    }
    return out
  } finally {
    await worker.close(true)
    await queue.obliterate({ force: true }).catch(() => undefined)
    await queue.close()
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no start within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** `latency.dispatch.<backend>.p50/p99` for each backend: the same measurement as the template's dispatch scenario. */
export async function bullDispatchScenario(options: {
  backends: readonly BullBackend[]
  samples: number
}): Promise<ScenarioResult> {
  const measurements: Measurement[] = []
  const notes: string[] = []
  for (const backend of options.backends) {
    const key = backend.kind === 'redis' ? 'bullmq_redis' : 'bullmq_pg'
    const samples = await bullDispatchSamples(backend, options.samples, 3)
    measurements.push(figure(`latency.dispatch.${key}.p50`, percentile(samples, 0.5), 'ms'))
    measurements.push(figure(`latency.dispatch.${key}.p99`, percentile(samples, 0.99), 'ms'))
    notes.push(
      `dispatch, ${bullLabel(backend)}: Queue.add resolving to the processor starting (Worker concurrency 1, idle between samples), ` +
        `p50 ${percentile(samples, 0.5).toFixed(2)} ms, p99 ${percentile(samples, 0.99).toFixed(2)} ms, n = ${samples.length}`,
    )
  }
  return { measurements, notes }
}
