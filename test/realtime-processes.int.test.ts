/**
 * Realtime across processes, for real: two worker processes, each with its own socket.io server.
 * B runs the jobs; a browser socket on A must receive every state and progress change of them.
 * In one process this proves nothing: the postgres adapter delivers to local sockets even when
 * its NOTIFY to other processes failed. Packets at NOTIFY's size limit are probed exactly: the
 * test measures the adapter's inline packets on its channel and sizes progress messages so one
 * packet is 7,999 bytes, one exactly 8,000 (PostgreSQL's limit is "shorter than 8000 bytes") and
 * one 8,001, then runs a job whose every packet is far larger.
 */
import pg from 'pg'
import { type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JobSnapshot } from '@/lib/jobs/job'
import { newer } from '@/lib/client/job-cache'
import { enqueueJob } from '@/lib/server/enqueue'
import { findJob } from '@/lib/server/job-store'
import { signRealtimeToken } from '@/lib/server/tokens'
import { FAULT_WORKER_SECRET } from './fault-queues'
import { connectJobSocket, setupTestDatabase } from './kit'
import { type Child, freePorts, startWorkerProcess, stopAll } from './processes'
import { REMOTE_CHANNEL, type RemoteInstruction } from './remote-queue'

/** socket.io's postgres adapter publishes on `<channelPrefix>#<namespace>` (defaults). */
const ADAPTER_CHANNEL = 'socket.io#/'
const owner = '77777777-7777-4777-8777-777777777777'

const db = setupTestDatabase()
let a: Child
let b: Child
let listener: pg.Client
/** Every payload seen on the adapter's channel, in order. */
const packets: string[] = []
let socket: Socket
/** Every snapshot the socket on A received, in arrival order. */
const received: JobSnapshot[] = []
const arrivals = new Set<() => void>()

beforeAll(async () => {
  // Sequence numbers with a fixed count of digits, so a packet's size depends only on what the test varies.
  await db.pool.query(`SELECT setval('app.job_seq', 1000000000000)`)
  listener = new pg.Client({ connectionString: db.url })
  await listener.connect()
  listener.on('notification', (n) => {
    if (n.channel !== ADAPTER_CHANNEL) return
    packets.push(n.payload ?? '')
    for (const arrived of arrivals) arrived()
  })
  await listener.query(`LISTEN "${ADAPTER_CHANNEL}"`)
  // Ports asked from the OS: a fixed one in the ephemeral range was once held by an outgoing connection.
  const [portA, portB] = (await freePorts(2)) as [number, number]
  ;[a, b] = await Promise.all([
    startWorkerProcess(db.url, 'worker-a', { WORKER_QUEUES: 'none', REALTIME_PORT: String(portA) }),
    // B writes a job's progress to its row on the first report only: every later step can reach A
    // through the adapter alone, so a packet the adapter failed to send is missed, not masked.
    startWorkerProcess(db.url, 'worker-b', {
      WORKER_QUEUES: 'remote',
      REALTIME_PORT: String(portB),
      PROGRESS_WRITE_MS: String(3_600_000),
    }),
  ])
  expect(a.stdout()).toContain(`realtime on port ${portA}`)
  const token = await signRealtimeToken(FAULT_WORKER_SECRET, owner)
  socket = await connectJobSocket(portA, token, (raw) => {
    received.push(JobSnapshot.parse(raw))
    for (const arrived of arrivals) arrived()
  })
}, 120_000)

afterAll(async () => {
  socket?.disconnect()
  await stopAll()
  await listener?.end()
})

/** Resolves with the first item of `list` that matches, already there or still to come. */
function arrival<T>(list: T[], match: (item: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = list.find(match)
      if (!found) return false
      arrivals.delete(check)
      clearTimeout(timer)
      resolve(found)
      return true
    }
    const timer = setTimeout(() => {
      arrivals.delete(check)
      reject(new Error(`never saw ${what} within ${timeoutMs} ms`))
    }, timeoutMs)
    if (!check()) arrivals.add(check)
  })
}

function receivedOnA(match: (s: JobSnapshot) => boolean, what: string): Promise<JobSnapshot> {
  return arrival(received, match, `${what} on the socket on A`)
}

function instruct(instruction: RemoteInstruction) {
  return db.pool.query('SELECT pg_notify($1, $2)', [REMOTE_CHANNEL, JSON.stringify(instruction)])
}

/** Sends a progress step to the handler on B and waits until the socket on A shows it. */
async function step(jobId: string, current: number, message: string): Promise<JobSnapshot> {
  await instruct({ jobId, progress: { current, total: 9, message } })
  return receivedOnA(
    (s) => s.id === jobId && s.progress?.message === message,
    `progress ${current} (${message.length} characters)`,
  )
}

/** The job as the client shows it after every event (`newer`), checked to only move forward. */
function clientView(jobId: string): JobSnapshot {
  let view: JobSnapshot | undefined
  for (const event of received.filter((s) => s.id === jobId)) {
    const next = newer(view, event)
    if (view) expect(next.seq).toBeGreaterThanOrEqual(view.seq)
    view = next
  }
  expect(view).toBeDefined()
  return view!
}

async function runToCompletion(jobId: string) {
  await instruct({ jobId, finish: true })
  await receivedOnA((s) => s.id === jobId && s.state === 'completed', 'the completed state')
  // What the client ends on is the database's state (JobSnapshot.parse drops findJob's ownerId).
  expect(clientView(jobId)).toEqual(JobSnapshot.parse(await findJob(db.pool, jobId)))
  // Every state, in the order it happened, each arriving after every older change.
  const states = received.filter((s) => s.id === jobId).map((s) => s.state)
  expect([...new Set(states)]).toEqual(['queued', 'active', 'completed'])
}

describe('realtime across two worker processes', () => {
  it(
    'a socket on process A receives every change of a job run by process B, including packets of 7,999, exactly 8,000 and 8,001 bytes',
    { timeout: 120_000 },
    async () => {
      // A payload of 7,000 bytes: progress packets then come near NOTIFY's limit.
      const job = await enqueueJob(db.pool, { queue: 'remote', ownerId: owner, payload: { pad: 'p'.repeat(7_000) } })
      await b.waitForLine(new RegExp(`listening ${job.id}`))

      // Calibrate: the size of B's inline packet for a 100-character message.
      const probe = 'a'.repeat(100)
      await step(job.id, 1, probe)
      const probePacket = await arrival(packets, (p) => p.includes(probe), "B's inline packet on the adapter channel")
      const base = Buffer.byteLength(probePacket) - probe.length
      expect(base, 'room for messages of up to PROGRESS_MESSAGE_MAX characters').toBeGreaterThan(8_001 - 500)

      for (const [current, size, letter] of [
        [2, 7_999, 'b'],
        [3, 8_000, 'c'],
        [4, 8_001, 'd'],
      ] as const) {
        const message = letter.repeat(size - base)
        const shown = await step(job.id, current, message)
        expect(shown.progress).toEqual({ current, total: 9, message })
        // Below the limit the packet goes inline, exactly the size the test aimed at.
        if (size < 8_000) {
          const inline = await arrival(packets, (p) => p.includes(message), `the ${size}-byte packet`)
          expect(Buffer.byteLength(inline)).toBe(size)
        }
      }
      await runToCompletion(job.id)
      // At and above it, packets go through the attachments table (a short header on the channel).
      expect(packets.filter((p) => p.includes('c'.repeat(100)) || p.includes('d'.repeat(100)))).toEqual([])
      expect(b.stderr() + b.stdout()).not.toMatch(/payload string too long/)
    },
  )

  it('a socket on process A receives every change of a job whose every packet is far over 8,000 bytes', async () => {
    const job = await enqueueJob(db.pool, { queue: 'remote', ownerId: owner, payload: { pad: 'q'.repeat(100_000) } })
    await b.waitForLine(new RegExp(`listening ${job.id}`))
    for (let current = 1; current <= 3; current++) {
      const shown = await step(job.id, current, `Step ${current}`)
      expect(shown.payload).toEqual({ pad: 'q'.repeat(100_000) })
    }
    await runToCompletion(job.id)
  })
})
