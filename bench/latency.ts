/**
 * Scenarios 2, 3, 4 and 6: dispatch, progress and cancel latency, and the cost of reporting progress
 * per row. All run one job at a time through the worker started in this process, so `performance.now()`
 * on both sides of each measurement reads the same clock.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { io as connectSocket, type Socket } from 'socket.io-client'
import { JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import { SETTLED_STATES, type JobSnapshot } from '@/lib/jobs/job'
import { enqueueJob } from '@/lib/server/enqueue'
import { requestCancel } from '@/lib/server/job-store'
import { signRealtimeToken } from '@/lib/server/tokens'
import { JobCancelledError } from '@/workers/queue-service'
import type { JobWatcher } from './job-watcher'
import { OVERHEAD_QUEUE, OverheadResult, PROBE_QUEUE, setProbe, type OverheadItem } from './queues'
import { compared, figure, median, percentile, type ScenarioResult } from './report'

/** Samples taken and thrown away before each latency series (JIT, connections). */
const WARMUP_SAMPLES = 3
/** Longest any single job of these scenarios may take before the bench gives up on it, in ms. */
const JOB_TIMEOUT_MS = 15_000

/** A promise with its resolve exposed, for handing a moment from a handler to the bench. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Rejects after `ms` with `what` in the message, so a lost event cannot hang the bench. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Between two samples, wait long enough for the runner to go back to waiting on NOTIFY, as at low
 * load, with jitter so samples do not lock onto any timer.
 */
function idleGap(): Promise<void> {
  return sleep(20 + Math.random() * 20)
}

function latencyFigures(name: string, samples: number[]) {
  return [figure(`${name}.p50`, percentile(samples, 0.5), 'ms'), figure(`${name}.p99`, percentile(samples, 0.99), 'ms')]
}

function spread(samples: number[]): string {
  const ms = (n: number) => `${n.toFixed(2)} ms`
  return `min ${ms(Math.min(...samples))}, p90 ${ms(percentile(samples, 0.9))}, max ${ms(Math.max(...samples))}, n = ${samples.length}`
}

export interface LatencyOptions {
  pool: pg.Pool
  watcher: JobWatcher
}

/** Scenario 2: `enqueueJob` resolving to `handleItem` starting, one job at a time. */
export async function dispatchScenario(options: LatencyOptions & { samples: number }): Promise<ScenarioResult> {
  setProbe(async ({ startedAt }) => ({ startedAt }))
  const owner = randomUUID()
  const samples: number[] = []
  let early = 0
  for (let i = 0; i < options.samples + WARMUP_SAMPLES; i++) {
    const job = await enqueueJob(options.pool, { queue: PROBE_QUEUE, ownerId: owner, payload: {} })
    const enqueued = performance.now()
    const done = await options.watcher.waitFor(job.id, SETTLED_STATES, JOB_TIMEOUT_MS)
    if (done.state !== 'completed') throw new Error(`dispatch probe ${job.id} ended ${done.state}`)
    const { startedAt } = done.result as { startedAt: number }
    // The worker hears the NOTIFY of the commit on its own connection and may start the handler
    // before the bench has read COMMIT's reply: that is a dispatch faster than we can observe.
    if (startedAt < enqueued) early++
    if (i >= WARMUP_SAMPLES) samples.push(Math.max(0, startedAt - enqueued))
    await idleGap()
  }
  setProbe(null)
  const notes = [`dispatch: ${spread(samples)}`]
  if (early) notes.push(`dispatch: ${early} handler(s) started before enqueueJob's promise resolved (counted as 0 ms)`)
  return { measurements: latencyFigures('latency.dispatch', samples), notes }
}

/**
 * Samples dispatch latency of the probe queue (as `dispatchScenario`, one job at a time, 100-150 ms
 * apart) until `stop()`, which resolves to the samples in ms: the throughput scenario runs it while
 * a backlog drains through another queue of the same worker.
 */
export function startDispatchSampler(options: LatencyOptions): { stop(): Promise<number[]> } {
  setProbe(async ({ startedAt }) => ({ startedAt }))
  const owner = randomUUID()
  const samples: number[] = []
  let stopping = false
  const loop = (async () => {
    while (!stopping) {
      const job = await enqueueJob(options.pool, { queue: PROBE_QUEUE, ownerId: owner, payload: {} })
      const enqueued = performance.now()
      const done = await options.watcher.waitFor(job.id, SETTLED_STATES, JOB_TIMEOUT_MS * 4)
      if (done.state !== 'completed') throw new Error(`dispatch probe ${job.id} ended ${done.state}`)
      samples.push(Math.max(0, (done.result as { startedAt: number }).startedAt - enqueued))
      await sleep(100 + Math.random() * 50)
    }
  })()
  return {
    async stop() {
      stopping = true
      try {
        await loop
      } finally {
        setProbe(null)
      }
      return samples
    },
  }
}

/** How long the handler stays quiet before a timed report, in ms: longer than the 200 ms emit throttle. */
const QUIET_MS = 260
/** Longest a timed report may take to reach every client before it is counted as lost, in ms. */
const DELIVERY_TIMEOUT_MS = 2_000

interface Client {
  socket: Socket
  /** Timed reports (by `current`) this client has seen for the running job. */
  seen: Set<number>
  /** The highest-`seq` snapshot per job, as the browser keeps it. */
  latest: Map<string, JobSnapshot>
  outOfOrder: number
}

async function connectClients(port: number, token: string, count: number): Promise<Client[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Client>((resolve, reject) => {
          // forceNew: one connection each, as ten browser tabs would have.
          const socket = connectSocket(`http://127.0.0.1:${port}`, {
            auth: { token },
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
          })
          socket.once('connect', () => resolve({ socket, seen: new Set(), latest: new Map(), outOfOrder: 0 }))
          socket.once('connect_error', (err) => reject(new Error(`socket did not connect: ${err.message}`)))
        }),
    ),
  )
}

/**
 * Scenario 3: `reportProgress()` to `queue.job.changed` at 10 sockets of the owner, for reports made
 * after a quiet period (so the throttle does not hold them back), then a burst whose last report
 * must arrive with the final state.
 */
export async function progressScenario(
  options: LatencyOptions & {
    port: number
    secret: string
    jobs: number
    reportsPerJob: number
    burst: number
    clients: number
  },
): Promise<ScenarioResult> {
  const owner = randomUUID()
  const clients = await connectClients(options.port, await signRealtimeToken(options.secret, owner), options.clients)
  const samples: number[] = []
  let lost = 0
  let delivered = 0
  try {
    // State of the report in flight, shared by the handler (sender) and the sockets (receivers).
    let current: { jobId: string; k: number; sentAt: number; missing: number; done: () => void } | null = null
    for (const client of clients) {
      client.socket.on(JOB_CHANGED_EVENT, (snapshot: JobSnapshot) => {
        const now = performance.now()
        const previous = client.latest.get(snapshot.id)
        if (previous && snapshot.seq < previous.seq) client.outOfOrder++
        else client.latest.set(snapshot.id, snapshot)
        const k = snapshot.progress?.current
        if (!current || snapshot.id !== current.jobId || k !== current.k || client.seen.has(k)) return
        client.seen.add(k)
        samples.push(now - current.sentAt)
        if (--current.missing === 0) current.done()
      })
    }
    const total = options.reportsPerJob + options.burst
    setProbe(async ({ jobId, reportProgress }) => {
      for (let k = 1; k <= options.reportsPerJob; k++) {
        await sleep(QUIET_MS)
        const arrived = deferred<void>()
        current = { jobId, k, sentAt: performance.now(), missing: clients.length, done: () => arrived.resolve() }
        reportProgress({ current: k, total, message: `Step ${k} of ${total}` })
        const timeout = sleep(DELIVERY_TIMEOUT_MS).then(() => 'timeout' as const)
        if ((await Promise.race([arrived.promise, timeout])) === 'timeout') lost += current.missing
        current = null
      }
      // The burst: the throttle coalesces it; only the last report has to reach the clients.
      for (let k = options.reportsPerJob + 1; k <= total; k++) {
        reportProgress({ current: k, total, message: `Step ${k} of ${total}` })
        if (k % 500 === 0) await sleep(0)
      }
      return { reports: total }
    })
    for (let j = 0; j < options.jobs; j++) {
      for (const client of clients) client.seen.clear()
      const job = await enqueueJob(options.pool, { queue: PROBE_QUEUE, ownerId: owner, payload: {} })
      const done = await options.watcher.waitFor(
        job.id,
        SETTLED_STATES,
        JOB_TIMEOUT_MS + options.reportsPerJob * (QUIET_MS + DELIVERY_TIMEOUT_MS),
      )
      if (done.state !== 'completed') throw new Error(`progress probe ${job.id} ended ${done.state}`)
      // The final state travels by NOTIFY after the commit: give it a moment to reach every socket.
      const isFinal = (c: Client) => {
        const last = c.latest.get(job.id)
        return last?.state === 'completed' && last.progress?.current === total
      }
      const deadline = performance.now() + 3_000
      while (!clients.every(isFinal) && performance.now() < deadline) await sleep(10)
      delivered += clients.filter(isFinal).length
    }
  } finally {
    setProbe(null)
    for (const client of clients) client.socket.disconnect()
  }
  const sent = options.jobs * clients.length
  const outOfOrder = clients.reduce((n, c) => n + c.outOfOrder, 0)
  const notes = [
    `progress: ${options.jobs} job(s) x ${options.reportsPerJob} timed reports x ${clients.length} sockets; ${spread(samples)}`,
    `progress: final state with the last of ${options.burst} burst reports reached ${delivered} of ${sent} socket-jobs; ${outOfOrder} event(s) arrived out of seq order (ignored, as the client does)`,
  ]
  if (lost)
    notes.push(
      `progress: ${lost} timed report deliveries did not arrive within ${DELIVERY_TIMEOUT_MS} ms (excluded from percentiles)`,
    )
  return {
    measurements: [
      ...latencyFigures('latency.progress', samples),
      figure('progress.delivered', delivered / sent, 'ratio'),
    ],
    notes,
  }
}

/** Scenario 4: `requestCancel()` resolving to the running handler's AbortSignal firing. */
export async function cancelScenario(options: LatencyOptions & { samples: number }): Promise<ScenarioResult> {
  const owner = randomUUID()
  let started = deferred<string>()
  let aborted = deferred<number | null>()
  setProbe(async ({ jobId, signal }) => {
    const abortedAt = new Promise<number>((resolve) =>
      signal.addEventListener('abort', () => resolve(performance.now()), { once: true }),
    )
    started.resolve(jobId)
    const at = await Promise.race([abortedAt, sleep(JOB_TIMEOUT_MS / 2).then(() => null)])
    aborted.resolve(at)
    if (at !== null) throw new JobCancelledError()
    return null
  })
  const samples: number[] = []
  const fromCall: number[] = []
  let early = 0
  let missed = 0
  try {
    for (let i = 0; i < options.samples + WARMUP_SAMPLES; i++) {
      started = deferred<string>()
      aborted = deferred<number | null>()
      const job = await enqueueJob(options.pool, { queue: PROBE_QUEUE, ownerId: owner, payload: {} })
      if ((await within(started.promise, JOB_TIMEOUT_MS, 'cancel probe start')) !== job.id)
        throw new Error('cancel probe ran another job')
      const calledAt = performance.now()
      const outcome = await requestCancel(options.pool, job.id, owner)
      const requested = performance.now()
      if (outcome.kind !== 'cancelling') throw new Error(`requestCancel answered ${outcome.kind} for a running job`)
      const at = await aborted.promise
      const done = await options.watcher.waitFor(job.id, SETTLED_STATES, JOB_TIMEOUT_MS)
      if (at === null || done.state !== 'cancelled') {
        missed++
      } else if (i >= WARMUP_SAMPLES) {
        // The NOTIFY can reach the worker before requestCancel's own reply reaches the bench.
        if (at < requested) early++
        samples.push(Math.max(0, at - requested))
        fromCall.push(at - calledAt)
      }
      await idleGap()
    }
  } finally {
    setProbe(null)
  }
  const notes = [`cancel: ${spread(samples)}`]
  if (early) notes.push(`cancel: ${early} abort(s) fired before requestCancel's promise resolved (counted as 0 ms)`)
  notes.push(
    `cancel: measured from the requestCancel call instead: p50 ${percentile(fromCall, 0.5).toFixed(2)} ms, p99 ${percentile(fromCall, 0.99).toFixed(2)} ms`,
  )
  if (missed) notes.push(`cancel: ${missed} job(s) were never aborted (excluded)`)
  return { measurements: latencyFigures('latency.cancel', samples), notes }
}

/**
 * Scenario 6: the same CPU-bound loop never reporting and reporting every row three ways (see
 * `OverheadItem`): through the job's bound reporter (`progress.overhead`, the per-row form the docs
 * give), through `this.reportProgress`, and with a report object built per row. Each repeat runs
 * the four jobs back to back in an order that rotates between repeats, after two untimed rounds.
 * Each job is timed by its loop time (`OverheadResult.loopMs`), and a variant's figure is the
 * never-reporting median plus the median of its differences with the never-reporting job of the
 * same repeat: a slow spell of the shared machine lengthens both jobs of a pair and cancels out,
 * where comparing the two medians let it decide the ratio. Wall times are in the notes.
 */
export async function overheadScenario(
  options: LatencyOptions & { rows: number; repeats: number },
): Promise<ScenarioResult> {
  const owner = randomUUID()
  const time = async (report: OverheadItem['report']) => {
    const job = await enqueueJob(options.pool, {
      queue: OVERHEAD_QUEUE,
      ownerId: owner,
      payload: { rows: options.rows, report },
    })
    const done = await options.watcher.waitFor(job.id, SETTLED_STATES, JOB_TIMEOUT_MS * 4)
    if (done.state !== 'completed') throw new Error(`overhead job ${job.id} ended ${done.state}`)
    return OverheadResult.parse(done.result)
  }
  // Repeats in multiples of four put every variant in every position equally often.
  const variants = ['never', 'per-row', 'helper', 'object'] as const
  // Untimed: the first round compiles the loop; the second runs it past the deoptimisations of
  // call sites that meet a new attempt's reporter function.
  for (let round = 0; round < 2; round++) for (const variant of variants) await time(variant)
  const loop = { never: [] as number[], 'per-row': [] as number[], helper: [] as number[], object: [] as number[] }
  const wall = { never: [] as number[], 'per-row': [] as number[], helper: [] as number[], object: [] as number[] }
  for (let i = 0; i < options.repeats; i++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(i + k) % variants.length]!
      const result = await time(variant)
      loop[variant].push(result.loopMs)
      wall[variant].push(result.elapsedMs)
    }
  }
  const never = median(loop.never)
  const extraMs = (variant: OverheadItem['report']) => median(loop[variant].map((ms, i) => ms - loop.never[i]!))
  const perRow = never + extraMs('per-row')
  const helper = never + extraMs('helper')
  const object = never + extraMs('object')
  const ns = (ms: number) => `${(((ms - never) * 1e6) / options.rows).toFixed(1)} ns`
  const ms = (times: number[]) => `${median(times).toFixed(1)} ms`
  return {
    measurements: [
      compared('progress.overhead', perRow, 'ms', 'never reporting', never),
      figure('progress.report_ns', ((perRow - never) * 1e6) / options.rows, 'ns/call'),
      compared('progress.overhead.helper', helper, 'ms', 'never reporting', never),
      compared('progress.overhead.object', object, 'ms', 'never reporting', never),
    ],
    notes: [
      `progress overhead: ${options.rows.toLocaleString('en-US')} rows (format one CSV line each), ${options.repeats} repeats of paired loop times: ${never.toFixed(1)} ms never reporting; per row ${ns(perRow)} more with the job's bound reporter, ${ns(helper)} with this.reportProgress(current, total, message), ${ns(object)} with a report object and message built per row`,
      `progress overhead, wall time medians: never ${ms(wall.never)}, bound reporter ${ms(wall['per-row'])}, this.reportProgress ${ms(wall.helper)}, report object ${ms(wall.object)}`,
    ],
  }
}
