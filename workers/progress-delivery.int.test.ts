/**
 * Progress that is cheap and arrives intact: a handler reporting on every one of 200,000
 * iterations costs about one database write a second and at most about five socket events a
 * second (every statement counted), the final state always arrives, any text survives the trip (except what PostgreSQL
 * cannot store, removed on purpose), and payloads over NOTIFY's 8000-byte limit still arrive.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { newer } from '@/lib/client/job-cache'
import { JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import { JobSnapshot, PROGRESS_MESSAGE_MAX } from '@/lib/jobs/job'
import { enqueueJob } from '@/lib/server/enqueue'
import { findJob } from '@/lib/server/job-store'
import { signRealtimeToken } from '@/lib/server/tokens'
import { setupJobWatch } from '@/test/job-watch'
import { connectJobSocket, setupTestDatabase, setupTestWorker } from '@/test/kit'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService } from './queue-service'

const Item = z.object({
  mode: z.enum(['chatty', 'message', 'big', 'steady']),
  iterations: z.number().int().default(0),
  /** Key of the messages to report, in `messagesByKey` (a payload cannot carry NUL: jsonb refuses it). */
  messagesKey: z.string().optional(),
  /** Makes the payload (and so every snapshot) as large as this many characters. */
  pad: z.string().optional(),
  resultBytes: z.number().int().default(0),
})
type Item = z.infer<typeof Item>

const messagesByKey = new Map<string, string[]>()
/** Units a 'steady' handler has reported, and who waits for how many. */
const steadyUnits = new Map<string, number>()
const unitWaiters = new Set<{ jobId: string; units: number; resolve: () => void }>()
function unitsReached(jobId: string, units: number): Promise<void> {
  if ((steadyUnits.get(jobId) ?? 0) >= units) return Promise.resolve()
  return new Promise((resolve) => unitWaiters.add({ jobId, units, resolve }))
}
const gates = new Map<string, PromiseWithResolvers<void>>()
function gate(key: string) {
  let g = gates.get(key)
  if (!g) gates.set(key, (g = Promise.withResolvers()))
  return g
}

const progressQueue = defineQueue({ name: 'progress', payload: Item, options: { retryLimit: 0, heartbeatSeconds: 10 } })

class ProgressQueue extends QueueService<typeof progressQueue> {
  readonly contract = progressQueue
  readonly workerCount = 2

  async handleItem(item: Item) {
    const { jobId } = this.job
    if (item.mode === 'chatty') {
      // Every iteration reports; a short pause every 2,000 spreads 200,000 over about 2.5 s.
      for (let i = 1; i <= item.iterations; i++) {
        this.reportProgress({ current: i, total: item.iterations, message: `Row ${i} of ${item.iterations}` })
        if (i % 2_000 === 0) await sleep(25)
      }
      return { iterations: item.iterations }
    }
    if (item.mode === 'steady') {
      // One more unit every 10 ms until the test opens the gate.
      const done = gate(`${jobId}:steady`)
      let stop = false
      void done.promise.then(() => {
        stop = true
      })
      let i = 0
      while (!stop) {
        this.reportProgress({ current: ++i, total: 1_000_000, message: `Unit ${i}` })
        steadyUnits.set(jobId, i)
        for (const w of unitWaiters)
          if (w.jobId === jobId && i >= w.units) {
            unitWaiters.delete(w)
            w.resolve()
          }
        await sleep(10)
      }
      this.reportProgress({ current: i, total: i, message: 'Done' })
      return { units: i }
    }
    if (item.mode === 'message') {
      const messages = messagesByKey.get(item.messagesKey!)!
      for (const [i, message] of messages.entries()) {
        this.reportProgress({ current: i + 1, total: messages.length, message })
        await gate(`${jobId}:${i}`).promise
      }
      return { ok: true }
    }
    this.reportProgress({ current: 1, total: 2, message: 'Big payload, half way' })
    await gate(`${jobId}:big`).promise
    this.reportProgress({ current: 2, total: 2, message: 'Big payload, done' })
    // Non-ASCII too, so bytes and characters differ: about `resultBytes` bytes of JSON.
    const rows = Array.from({ length: Math.ceil(item.resultBytes / 40) }, (_, i) => `row ${i}: “São Paulo” ✓ 🚀`)
    return { rows }
  }
}

const SECRET = 'p'.repeat(40)
const owner = 'abababab-abab-4bab-8bab-abababababab'

let socket: Socket
/** Every payload on the socket.io postgres adapter's channel (`<channelPrefix>#<namespace>`), in order. */
const ADAPTER_CHANNEL = 'socket.io#/'
const adapterPackets: string[] = []
let adapterListener: pg.Client
/** Every `queue.job.changed` event the owner's socket received, in arrival order. */
const events: { snapshot: JobSnapshot; at: number }[] = []

const db = setupTestDatabase()
const watch = setupJobWatch(db)

beforeAll(async () => {
  adapterListener = new pg.Client({ connectionString: db.url })
  await adapterListener.connect()
  adapterListener.on('notification', (n) => adapterPackets.push(n.payload ?? ''))
  await adapterListener.query(`LISTEN "${ADAPTER_CHANNEL}"`)
})

const worker = setupTestWorker(db, [ProgressQueue], { secret: SECRET, realtimePort: 0 })

beforeAll(async () => {
  const token = await signRealtimeToken(SECRET, owner)
  const onJobChanged = (raw: unknown) => {
    events.push({ snapshot: JobSnapshot.strict().parse(raw), at: Date.now() })
    for (const check of [...eventWaiters]) check()
  }
  socket = await connectJobSocket(worker.realtime.port!, token, onJobChanged, { reconnection: false })
})

afterAll(async () => {
  socket?.disconnect()
  for (const g of gates.values()) g.resolve()
  await adapterListener?.end()
})

function enqueue(item: Partial<Item>) {
  return enqueueJob(db.pool, { queue: 'progress', ownerId: owner, payload: item })
}

const eventWaiters = new Set<() => void>()

/** Resolves with the first event of `jobId` (received already or later) matching `predicate`. */
function nextEvent(jobId: string, predicate: (s: JobSnapshot) => boolean, timeoutMs = 10_000): Promise<JobSnapshot> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = events.find((e) => e.snapshot.id === jobId && predicate(e.snapshot))
      if (!found) return false
      clearTimeout(timer)
      eventWaiters.delete(check)
      resolve(found.snapshot)
      return true
    }
    const timer = setTimeout(() => {
      eventWaiters.delete(check)
      reject(new Error(`no matching ${JOB_CHANGED_EVENT} event for ${jobId} within ${timeoutMs} ms`))
    }, timeoutMs)
    if (!check()) eventWaiters.add(check)
  })
}

/** The progress a tab shows after each of `snapshots` (in arrival order), by the client's own merge rule. */
function shownProgress(snapshots: JobSnapshot[]): number[] {
  let shown: JobSnapshot | undefined
  return snapshots.map((s) => (shown = newer(shown, s)).progress?.current ?? 0)
}

/** The event a client keeps in the end: the highest seq. */
function newestEvent(jobId: string): JobSnapshot {
  return events
    .filter((e) => e.snapshot.id === jobId)
    .map((e) => e.snapshot)
    .sort((a, b) => b.seq - a.seq)[0]!
}

describe('progress reported on every iteration', () => {
  it(
    'costs about one database write a second and at most about five socket events a second, counting every statement, and the final progress always arrives',
    { timeout: 60_000 },
    async () => {
      const N = 200_000
      const job = await enqueue({ mode: 'chatty', iterations: N })
      const done = await watch.next(job.id, (s) => s.state === 'completed' || s.state === 'failed', 30_000)
      expect(done.snapshot.state).toBe('completed')
      await nextEvent(job.id, (s) => s.state === 'completed')

      // JobSnapshot drops findJob's ownerId: what a client holds.
      const row = JobSnapshot.parse(await findJob(db.pool, job.id))
      const durationS = (Date.parse(row.settledAt!) - Date.parse(row.startedAt!)) / 1000
      // What the reports cost, counted in the database, statement by statement (nothing else
      // changes a job in this database meanwhile):
      // - row writes: one UPDATE each (its triggers' NOTIFY and timeline row run inside it),
      //   counted by the NOTIFYs on the job-change channel from the moment the job started;
      const writes = watch.seen(job.id).filter((s) => s.snapshot.state !== 'queued').length
      // - sequence bumps: every nextval of app.job_seq since the job was queued, one per row write
      //   (its trigger) plus one `SELECT nextval` statement per progress event;
      const seqBumps = row.seq - job.seq
      const eventSeqStatements = seqBumps - writes
      // - adapter NOTIFYs: one `SELECT pg_notify` per progress event (an INSERT more for a packet
      //   over NOTIFY's limit, which these small snapshots never are).
      const packets = adapterPackets.filter((p) => p.includes(job.id))
      expect(adapterPackets.filter((p) => p.includes('attachmentId'))).toEqual([])
      const statements = writes + eventSeqStatements + packets.length
      const mine = events.filter((e) => e.snapshot.id === job.id)
      console.log(
        `[progress] ${N.toLocaleString('en-US')} reports in ${durationS.toFixed(2)} s: ${statements} statements (${writes} row writes, ${eventSeqStatements} sequence bumps for events, ${packets.length} adapter NOTIFYs; ${(statements / durationS).toFixed(1)}/s), ${mine.length} socket events (${(mine.length / durationS).toFixed(1)}/s)`,
      )

      expect(durationS).toBeGreaterThan(1.5)
      // Row writes: markActive, ~1 progress write a second, the settle.
      expect(writes).toBeLessThanOrEqual(Math.ceil(durationS) + 3)
      // Progress events: at most one per 200 ms, each one sequence bump and one NOTIFY (a bump
      // taken as the job settles is dropped unsent, so there may be one more bump than packets).
      expect(packets.length).toBeLessThanOrEqual(Math.ceil(5 * durationS) + 1)
      expect(eventSeqStatements).toBeGreaterThanOrEqual(packets.length)
      expect(eventSeqStatements).toBeLessThanOrEqual(packets.length + 1)
      expect(statements).toBeLessThanOrEqual(Math.ceil(durationS) + 3 + 2 * (Math.ceil(5 * durationS) + 1) + 1)
      // Socket events: the progress events plus the row changes (and the insert), never one per report.
      expect(mine.length).toBeLessThanOrEqual(packets.length + writes + 1)
      // ...but live: the bar moves more than once a second.
      const progressEvents = mine.filter(
        (e) => e.snapshot.state === 'active' && (e.snapshot.progress?.current ?? 0) > 0,
      )
      expect(progressEvents.length).toBeGreaterThanOrEqual(Math.floor(1.5 * durationS))

      // The client ends on the truth: completed, with the final progress, equal to the row.
      const newest = newestEvent(job.id)
      expect(newest).toEqual(row)
      expect(newest).toMatchObject({ state: 'completed', progress: { current: N, total: N } })
      expect(row.progress).toEqual({ current: N, total: N, message: `Row ${N} of ${N}` })
      // And what the tab showed, event by event, never went backwards.
      const shownValues = shownProgress(mine.map((e) => e.snapshot))
      expect(shownValues).toEqual([...shownValues].sort((a, b) => a - b))
    },
  )
})

describe('a progress write the database holds up', () => {
  it("never makes what the owner's tab shows go backwards", { timeout: 30_000 }, async () => {
    const job = await enqueue({ mode: 'steady' })
    await nextEvent(job.id, (s) => s.state === 'active' && (s.progress?.current ?? 0) > 0)
    // Another transaction holds the job's row, so the next coalesced progress write waits for it
    // while the handler goes on reporting (and, unless the runner orders them, emits go on).
    const holder = await db.pool.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT 1 FROM app.jobs WHERE id = $1 FOR UPDATE', [job.id])
      await expect
        .poll(
          async () =>
            (
              await db.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE app.jobs SET progress%'`,
              )
            ).rows[0]!.n,
          { timeout: 5_000 },
        )
        .toBe(1)
      // The handler reports 30 more units (about 0.3 s, three emit intervals) while the write waits.
      await unitsReached(job.id, steadyUnits.get(job.id)! + 30)
      await holder.query('COMMIT')
    } finally {
      holder.release()
    }
    // The released write lands; then a few more events, then the end.
    const released = events.filter((e) => e.snapshot.id === job.id).length
    await nextEvent(job.id, () => events.filter((e) => e.snapshot.id === job.id).length >= released + 3)
    gate(`${job.id}:steady`).resolve()
    await nextEvent(job.id, (s) => s.state === 'completed')

    const mine = events.filter((e) => e.snapshot.id === job.id).map((e) => e.snapshot)
    const shownValues = shownProgress(mine)
    const drops = shownValues.flatMap((v, i) =>
      i > 0 && v < shownValues[i - 1]! ? [`${shownValues[i - 1]} -> ${v}`] : [],
    )
    expect(drops).toEqual([])
    expect(mine.reduce<JobSnapshot | undefined>(newer, undefined)).toMatchObject({ state: 'completed' })
  })
})

describe('progress messages', () => {
  // What each message must look like on arrival (socket event, NOTIFY and row alike).
  const tricky =
    'Emoji 🚀👩🏽‍💻 "double" \'single\' `back` <b>&amp;</b> \\ backslash\nnew line\r\n\ttab é 中文 ✓ \u0000NUL \uD800lone \uDFFFlow end'
  const cases: [string, string, string][] = [
    [
      'any text but NUL and lone surrogates arrives unchanged',
      tricky,
      // NUL is removed; a lone surrogate becomes U+FFFD (jsonb can store neither).
      tricky.replace('\u0000', '').replace('\uD800', '\uFFFD').replace('\uDFFF', '\uFFFD'),
    ],
    [
      'a message over 500 characters is cut on purpose, ending with "…"',
      'x'.repeat(600),
      `${'x'.repeat(PROGRESS_MESSAGE_MAX - 1)}…`,
    ],
    ['a cut never splits an emoji in half', '🚀'.repeat(300), `${'🚀'.repeat((PROGRESS_MESSAGE_MAX - 2) / 2)}…`],
    [
      'a message of exactly 500 characters is kept whole',
      'y'.repeat(PROGRESS_MESSAGE_MAX),
      'y'.repeat(PROGRESS_MESSAGE_MAX),
    ],
  ]

  it.each(cases)('%s', async (name, message, expected) => {
    messagesByKey.set(name, [message])
    const job = await enqueue({ mode: 'message', messagesKey: name })
    // The socket event (coalesced emit) and the row (coalesced write) both carry it.
    const event = await nextEvent(job.id, (s) => s.state === 'active' && s.progress?.current === 1)
    expect(event.progress!.message).toBe(expected)
    expect(event.progress!.message.length).toBeLessThanOrEqual(PROGRESS_MESSAGE_MAX)
    expect(event.progress!.message.isWellFormed()).toBe(true)
    const written = await watch.next(job.id, (s) => s.state === 'active' && s.progress?.current === 1, 5_000)
    expect(written.snapshot.progress!.message).toBe(expected)
    gate(`${job.id}:0`).resolve()
    const completed = await nextEvent(job.id, (s) => s.state === 'completed')
    expect(completed.progress).toEqual({ current: 1, total: 1, message: expected })
    expect((await findJob(db.pool, job.id))!.progress!.message).toBe(expected)
  })
})

describe("snapshots over PostgreSQL's 8000-byte NOTIFY limit", () => {
  it(
    "still reach the owner's socket: progress of a job with a 10 kB payload, and its 20 kB result in full",
    { timeout: 30_000 },
    async () => {
      const job = await enqueue({ mode: 'big', pad: 'ü'.repeat(10_000), resultBytes: 20_000 })
      const halfway = await nextEvent(job.id, (s) => s.state === 'active' && s.progress?.current === 1)
      expect(halfway.payload).toMatchObject({ pad: 'ü'.repeat(10_000) })
      gate(`${job.id}:big`).resolve()
      const completed = await nextEvent(job.id, (s) => s.state === 'completed')
      const snapshot = JobSnapshot.parse(await findJob(db.pool, job.id))
      expect(Buffer.byteLength(JSON.stringify(snapshot.result))).toBeGreaterThan(8_000)
      expect(completed).toEqual(snapshot)
      expect(newestEvent(job.id)).toEqual(snapshot)
      // The trigger sent a reference, not the snapshot, and nothing was lost on the way.
      expect(watch.seen(job.id).every((s) => !s.inline)).toBe(true)
    },
  )
})
