import { SignJWT } from 'jose'
import { io as connectSocket, type Socket } from 'socket.io-client'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { JOB_CHANGED_EVENT, JOB_SUBSCRIBE_EVENT } from '@/lib/jobs/events'
import { JobSnapshot, type JobState } from '@/lib/jobs/job'
import { enqueueJob } from '@/lib/server/enqueue'
import { findJobForOwner } from '@/lib/server/job-store'
import { signRealtimeToken, signSessionToken } from '@/lib/server/tokens'
import { setupTestDatabase, setupTestWorker, waitForJob } from '@/test/kit'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService } from './queue-service'

/** Reports progress, then holds until the test opens its gate (if any), then completes. */
const Item = z.object({ steps: z.number().int().default(3), hold: z.string().optional() })
type Item = z.infer<typeof Item>
const gates = new Map<string, () => void>()

const stepsQueue = defineQueue({ name: 'steps', payload: Item, options: { retryLimit: 0, heartbeatSeconds: 10 } })

class StepsQueue extends QueueService<typeof stepsQueue> {
  readonly contract = stepsQueue
  readonly workerCount = 2

  async handleItem(item: Item) {
    this.reportProgress({ current: 1, total: item.steps, message: 'Started' })
    if (item.hold) await new Promise<void>((resolve) => gates.set(item.hold!, resolve))
    for (let i = 2; i <= item.steps; i++) this.reportProgress({ current: i, total: item.steps, message: `Step ${i}` })
    return { steps: item.steps }
  }
}

const SECRET = 'r'.repeat(40)
const viewerA = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'
const viewerB = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'

const db = setupTestDatabase()
const worker = setupTestWorker(db, [StepsQueue], { secret: SECRET, realtimePort: 0 })
let url: string
const sockets: Socket[] = []

beforeAll(() => {
  expect(worker.realtime.port).toBeGreaterThan(0)
  url = `http://127.0.0.1:${worker.realtime.port}`
})

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

function openSocket(auth?: Record<string, unknown>): Socket {
  const socket = connectSocket(url, {
    transports: ['websocket'],
    auth,
    reconnection: false,
    forceNew: true,
    timeout: 5_000,
  })
  sockets.push(socket)
  return socket
}

/** Resolves with the socket once connected; rejects with the server's connect_error. */
function connected(socket: Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('connect_error', reject)
  })
}

/** The error a socket's connection attempt is refused with (fails the test if it connects). */
function refusal(socket: Socket): Promise<Error> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('the server accepted the connection')))
    socket.once('connect_error', resolve)
  })
}

/** A connected socket of `viewerId` that records every queue.job.changed event it receives. */
async function viewerSocket(viewerId: string) {
  const socket = await connected(openSocket({ token: await signRealtimeToken(SECRET, viewerId) }))
  const events: JobSnapshot[] = []
  const waiters: { predicate: (e: JobSnapshot) => boolean; resolve: (e: JobSnapshot) => void }[] = []
  socket.on(JOB_CHANGED_EVENT, (raw: unknown) => {
    // Validate the wire shape too: an event the browser cannot parse is as bad as none.
    const event = JobSnapshot.strict().parse(raw)
    events.push(event)
    for (const w of waiters.filter((w) => w.predicate(event))) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(event)
    }
  })
  return {
    socket,
    events,
    /** Resolves with the first event (already received or not) that matches. */
    next(predicate: (e: JobSnapshot) => boolean, timeoutMs = 10_000): Promise<JobSnapshot> {
      const seen = events.find(predicate)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching ${JOB_CHANGED_EVENT} event within ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer)
            resolve(e)
          },
        })
      })
    },
    subscribe(message: unknown): Promise<unknown> {
      return socket.timeout(5_000).emitWithAck(JOB_SUBSCRIBE_EVENT, message)
    },
  }
}

function enqueue(ownerId: string, item: Partial<Item>) {
  return enqueueJob(db.pool, { queue: 'steps', ownerId, payload: item })
}

const LIFECYCLE: JobState[] = ['queued', 'active', 'completed']

describe('realtime server', () => {
  describe('refuses a socket without a valid realtime token', () => {
    it.each<[string, () => Promise<Record<string, unknown> | undefined>]>([
      ['no auth at all', async () => undefined],
      ['no token', async () => ({})],
      ['a token that is not text', async () => ({ token: 12345 })],
      ['a token that is not a JWT', async () => ({ token: 'not-a-token' })],
      ['a token signed with another secret', async () => ({ token: await signRealtimeToken('s'.repeat(40), viewerA) })],
      ['a session token (another audience)', async () => ({ token: await signSessionToken(SECRET, viewerA) })],
      [
        'an expired realtime token',
        async () => ({
          token: await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(viewerA)
            .setIssuer('next-background-jobs')
            .setAudience('realtime')
            .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
            .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
            .sign(new TextEncoder().encode(SECRET)),
        }),
      ],
      [
        'a realtime token for a viewer id that is not a UUID',
        async () => ({ token: await signRealtimeToken(SECRET, 'viewer-a') }),
      ],
      ['an oversized token', async () => ({ token: `${await signRealtimeToken(SECRET, viewerA)}${'x'.repeat(3000)}` })],
    ])('%s', async (_, auth) => {
      const error = await refusal(openSocket(await auth()))
      expect(error.message).toBe('UNAUTHORIZED')
    })

    it('but accepts a fresh realtime token of the same secret', async () => {
      const socket = await connected(openSocket({ token: await signRealtimeToken(SECRET, viewerA) }))
      expect(socket.connected).toBe(true)
    })
  })

  it('sends each change of a job to its owner only, ending with the completed state', async () => {
    const a = await viewerSocket(viewerA)
    const b = await viewerSocket(viewerB)

    const job = await enqueue(viewerA, { steps: 4, hold: 'a-job' })
    // B cannot join A's job room either, so B must stay deaf to it.
    expect(await b.subscribe({ jobId: job.id })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    // A also joins the job's room: a socket in both rooms must still get each event once.
    expect(await a.subscribe({ jobId: job.id })).toMatchObject({ ok: true, value: { id: job.id } })

    const progress = await a.next((e) => e.id === job.id && e.state === 'active' && e.progress?.current === 1)
    expect(progress.progress).toEqual({ current: 1, total: 4, message: 'Started' })
    gates.get('a-job')!()
    const completed = await a.next((e) => e.id === job.id && e.state === 'completed')
    expect(completed.progress).toEqual({ current: 4, total: 4, message: 'Step 4' })
    expect(completed.result).toEqual({ steps: 4 })
    expect(completed).toEqual(await findJobForOwner(db.pool, job.id, viewerA))

    const ofJob = a.events.filter((e) => e.id === job.id)
    expect(new Set(ofJob.map((e) => e.seq)).size).toBe(ofJob.length) // no duplicates
    // Events may overtake each other; a client keeps the highest seq, so ordered by seq the job
    // must only move forward, and the highest seq must be the completed state.
    const bySeq = [...ofJob].sort((x, y) => x.seq - y.seq)
    const positions = bySeq.map((e) => LIFECYCLE.indexOf(e.state))
    expect(positions).toEqual([...positions].sort((x, y) => x - y))
    expect(bySeq.at(-1)).toEqual(completed)
    expect(bySeq.map((e) => e.state)).toContain('active')

    // Barrier: B's own job's completion reaches B after anything sent to B before it.
    const own = await enqueue(viewerB, { steps: 2 })
    await b.next((e) => e.id === own.id && e.state === 'completed')
    expect(b.events.length).toBeGreaterThan(0)
    expect(b.events.filter((e) => e.id !== own.id)).toEqual([])
    expect(a.events.filter((e) => e.id === own.id)).toEqual([])
  })

  it("answers a subscription to another viewer's job as not found, and its owner's with the current snapshot", async () => {
    const job = await enqueue(viewerA, { steps: 2 })
    await waitForJob(db.url, job.id, 'completed')
    const a = await viewerSocket(viewerA)
    const b = await viewerSocket(viewerB)

    expect(await b.subscribe({ jobId: job.id })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: expect.any(String) },
    })
    // The same answer as for a job that does not exist: existence is not leaked.
    expect(await b.subscribe({ jobId: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc' })).toEqual(
      await b.subscribe({ jobId: job.id }),
    )
    expect(await a.subscribe({ jobId: job.id })).toEqual({
      ok: true,
      value: await findJobForOwner(db.pool, job.id, viewerA),
    })
  })

  it('answers a malformed subscription with VALIDATION and keeps the connection usable', async () => {
    const job = await enqueue(viewerA, { steps: 2, hold: 'malformed' })
    const a = await viewerSocket(viewerA)
    for (const message of [
      { jobId: 'x' },
      'just a string',
      42,
      null,
      {},
      [job.id],
      { jobId: job.id, extra: true },
      { jobId: job.id.toUpperCase().replace(/-/g, '') },
    ]) {
      expect(await a.subscribe(message), JSON.stringify(message)).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION' },
      })
    }
    // An unknown event is ignored, not fatal.
    a.socket.emit('no.such.event', { anything: true })
    expect(a.socket.connected).toBe(true)

    const ack = await a.subscribe({ jobId: job.id })
    expect(ack).toMatchObject({ ok: true, value: { id: job.id } })
    await expect.poll(() => gates.has('malformed')).toBe(true)
    gates.get('malformed')!()
    await a.next((e) => e.id === job.id && e.state === 'completed')
  })
})
