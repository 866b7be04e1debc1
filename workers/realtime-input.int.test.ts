/**
 * What a browser may send the realtime server, as an attacker would send it: oversized frames,
 * packets socket.io cannot decode, unknown events, generated subscribe messages. "Healthy" means:
 * the server keeps running and logs what it dropped, other connections are untouched, and the
 * offending client (socket.io closes a connection on an oversized or undecodable packet) reconnects
 * with a fresh token and subscribes again, as the browser client does.
 */
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { io as connectSocket, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { JOB_SUBSCRIBE_EVENT, MAX_CLIENT_MESSAGE_BYTES } from '@/lib/jobs/events'
import { insertJob } from '@/lib/server/job-store'
import { signRealtimeToken } from '@/lib/server/tokens'
import { setupTestDatabase } from '@/test/kit'
import { type Realtime, startRealtime } from './realtime'

const SECRET = 'realtime-input-secret-realtime-input-secret'

const db = setupTestDatabase({ poolMax: 4 })
let realtime: Realtime
let url: string
const logged: string[] = []
const sockets: Socket[] = []

beforeAll(async () => {
  const record = (level: string) => (message: string) => {
    logged.push(`${level} ${message}`)
  }
  realtime = await startRealtime({
    pool: db.pool,
    secret: SECRET,
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    port: 0,
    origins: [],
  })
  url = `http://127.0.0.1:${realtime.port}`
})

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

afterAll(async () => {
  await realtime?.close()
})

/**
 * A socket of `viewerId` that, like the browser client, asks for a fresh token before every
 * (re)connect and reconnects by itself. `tokens` counts the tokens it asked for.
 */
async function viewerSocket(viewerId: string) {
  const state = { tokens: 0, disconnects: [] as string[] }
  const socket = connectSocket(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    timeout: 5_000,
    auth: (cb) => {
      state.tokens++
      void signRealtimeToken(SECRET, viewerId).then((token) => cb({ token }))
    },
  })
  sockets.push(socket)
  socket.on('disconnect', (reason) => state.disconnects.push(reason))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return {
    socket,
    state,
    subscribe: (message: unknown) =>
      socket.timeout(5_000).emitWithAck(JOB_SUBSCRIBE_EVENT, message) as Promise<unknown>,
  }
}

async function jobOf(ownerId: string): Promise<string> {
  const id = randomUUID()
  await insertJob(db.pool, { id, queue: 'steps', ownerId, payload: {} })
  return id
}

/** Resolves once a log line matching `pattern` was written after index `from`. */
function loggedSince(from: number, pattern: RegExp) {
  return expect.poll(() => logged.slice(from).some((line) => pattern.test(line)), { timeout: 5_000 }).toBe(true)
}

describe('realtime server input', () => {
  it('drops a message over the size limit by closing only that connection, logs it, and the client reconnects with a fresh token', async () => {
    const viewerA = randomUUID()
    const viewerB = randomUUID()
    const [jobA, jobB] = [await jobOf(viewerA), await jobOf(viewerB)]
    const a = await viewerSocket(viewerA)
    const b = await viewerSocket(viewerB)
    expect(await a.subscribe({ jobId: jobA })).toMatchObject({ ok: true })
    const from = logged.length

    a.socket.emit(JOB_SUBSCRIBE_EVENT, { jobId: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 1) })
    await expect.poll(() => a.state.disconnects.length).toBe(1)
    expect(a.state.disconnects[0]).toMatch(/^transport (close|error)$/)
    await loggedSince(
      from,
      /^warn socket \S+: closed after a malformed or oversized message \(transport error: .*Max payload size exceeded\)$/,
    )

    // Nobody else noticed.
    expect(b.socket.connected).toBe(true)
    expect(b.state.disconnects).toEqual([])
    expect(await b.subscribe({ jobId: jobB })).toMatchObject({ ok: true, value: { id: jobB } })

    // The client is back by itself, with a new token, and can subscribe again.
    await expect.poll(() => a.socket.connected).toBe(true)
    expect(a.state.tokens).toBe(2)
    expect(await a.subscribe({ jobId: jobA })).toMatchObject({ ok: true, value: { id: jobA } })
  })

  it('answers a malformed message just under the size limit with VALIDATION, logs it, and keeps the connection', async () => {
    const a = await viewerSocket(randomUUID())
    const from = logged.length
    expect(await a.subscribe({ jobId: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES - 200) })).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: 'Expected { jobId: uuid }.' },
    })
    await loggedSince(from, /dropped malformed job\.subscribe message/)
    expect(a.socket.connected).toBe(true)
    expect(a.state.disconnects).toEqual([])
  })

  it('drops a packet socket.io cannot decode, logs it, and the server and other sockets carry on', async () => {
    const viewer = randomUUID()
    const job = await jobOf(viewer)
    const a = await viewerSocket(viewer)
    const b = await viewerSocket(randomUUID())
    const from = logged.length
    // A raw engine.io message that is no socket.io packet at all.
    ;(a.socket.io.engine as unknown as { write(data: string): void }).write('garbage that is not a socket.io packet')
    await loggedSince(from, /^warn socket \S+: dropped a malformed packet/)
    await expect.poll(() => a.state.disconnects.length).toBeGreaterThan(0)
    expect(b.socket.connected).toBe(true)
    await expect.poll(() => a.socket.connected).toBe(true)
    expect(await a.subscribe({ jobId: job })).toMatchObject({ ok: true })
  })

  it('ignores unknown events and odd arguments, logs them without echoing what the browser sent, and keeps the connection', async () => {
    const viewer = randomUUID()
    const job = await jobOf(viewer)
    const a = await viewerSocket(viewer)
    const from = logged.length
    a.socket.emit('evil\n[worker] FORGED LOG LINE', { anything: true })
    a.socket.emit(JOB_SUBSCRIBE_EVENT, { jobId: job }) // no ack callback
    a.socket.emit(JOB_SUBSCRIBE_EVENT, { jobId: job }, 'not a function', 42)
    a.socket.emit(JOB_SUBSCRIBE_EVENT, Buffer.from(JSON.stringify({ jobId: job })))
    a.socket.emit(JOB_SUBSCRIBE_EVENT)
    expect(await a.subscribe(JSON.parse(`{"jobId": "${job}", "__proto__": {"jobId": "${job}"}}`))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION' },
    })
    await loggedSince(from, /ignored unknown event/)
    expect(logged.slice(from).join('\n')).not.toContain('FORGED')
    expect(a.socket.connected).toBe(true)
    expect(await a.subscribe({ jobId: job })).toMatchObject({ ok: true, value: { id: job } })
    expect(a.state.disconnects).toEqual([])
  })

  it("answers 300 generated subscribe messages with VALIDATION, or NOT_FOUND for a well-formed id that is not the viewer's, on one healthy connection", async () => {
    const stranger = randomUUID()
    const theirJob = await jobOf(stranger)
    const a = await viewerSocket(randomUUID())
    const message = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record(
        { jobId: fc.oneof(fc.string({ maxLength: 50 }), fc.uuid(), fc.constant(theirJob), fc.integer()) },
        { requiredKeys: [] },
      ),
      fc.dictionary(
        fc.constantFrom('jobId', '__proto__', 'constructor', 'room', 'owner'),
        fc.jsonValue({ maxDepth: 1 }),
        { maxKeys: 3 },
      ),
    )
    await fc.assert(
      fc.asyncProperty(message, async (raw) => {
        const answer = (await a.subscribe(raw)) as { ok: boolean; error?: { code: string } }
        expect(answer.ok).toBe(false)
        expect(['VALIDATION', 'NOT_FOUND']).toContain(answer.error?.code)
      }),
      { numRuns: 300 },
    )
    expect(a.socket.connected).toBe(true)
    expect(a.state.disconnects).toEqual([])
  })
})
