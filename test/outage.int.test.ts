/**
 * Database outage: this file runs its own PostgreSQL (port 54373, data in .data/pg-h3-outage, or
 * OUTAGE_PG_PORT / OUTAGE_PG_DIR), so it can stop and start it without touching anyone else's.
 * The worker is the production entry (workers/main.ts) in its own process; the web tier is called
 * in-process: the health route and the startExport Server Action, with `next/headers` mocked to
 * carry a valid session cookie.
 */
import { connect } from 'node:net'
import { io as connectSocket, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import { JobSnapshot } from '@/lib/jobs/job'
import { signRealtimeToken, signSessionToken } from '@/lib/server/tokens'
import { createDatabase, setUpDatabase } from '../scripts/database'
import { startEmbeddedPostgres, type EmbeddedServer } from '../scripts/embedded-postgres'
import { waitForJob } from './kit'
import { freePort, startProcess, stopAll, stopProcess, type Child } from './processes'

const session = vi.hoisted(() => ({ token: '' }))
vi.mock('next/headers', () => ({
  cookies: async () => ({
    get: (name: string) => (name === 'nbj_session' && session.token ? { name, value: session.token } : undefined),
  }),
}))

const PORT = Number(process.env.OUTAGE_PG_PORT || 54373)
const DATA_DIR = process.env.OUTAGE_PG_DIR || '.data/pg-h3-outage'
const DATABASE = 'nbj_outage'
const SECRET = 'outage-test-secret-outage-test-secret'
const owner = 'cdcdcdcd-cdcd-4cdc-8cdc-cdcdcdcdcdcd'
const ALL_CITIES = 135_233

let server: EmbeddedServer | null = null
let url: string
let actions: typeof import('@/lib/actions/jobs')
let health: typeof import('@/app/api/health/route')
let worker: Child | null = null
let realtimePort: number
const savedEnv = { DATABASE_URL: process.env.DATABASE_URL, SESSION_SECRET: process.env.SESSION_SECRET }

/** Whether anything accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function startServer(): Promise<void> {
  server = await startEmbeddedPostgres({ dataDir: DATA_DIR, port: PORT, log: () => undefined })
}

async function stopServer(): Promise<void> {
  await server?.stop()
  server = null
  expect(await listening(PORT)).toBe(false)
}

async function healthOf(): Promise<{ status: number; body: unknown }> {
  const response = await health.GET()
  return { status: response.status, body: await response.json() }
}

beforeAll(async () => {
  // A server left running on the port would be reused and could not be stopped by this file.
  if (await listening(PORT))
    throw new Error(`port ${PORT} is taken; the outage test needs a PostgreSQL of its own there (set OUTAGE_PG_PORT)`)
  await startServer()
  url = server!.url(DATABASE)
  await createDatabase(server!.url('postgres'), DATABASE, { fresh: true })
  await setUpDatabase(url)
  realtimePort = await freePort()
  // The web tier reads its environment once, on first use: set it before loading the modules.
  process.env.DATABASE_URL = url
  process.env.SESSION_SECRET = SECRET
  session.token = await signSessionToken(SECRET, owner)
  vi.resetModules()
  actions = await import('@/lib/actions/jobs')
  health = await import('@/app/api/health/route')
}, 180_000)

afterAll(async () => {
  await stopAll()
  const pools = globalThis as unknown as { __nbjWebPool?: { end(): Promise<void> } }
  await pools.__nbjWebPool?.end().catch(() => undefined)
  delete pools.__nbjWebPool
  await server?.stop()
  Object.assign(process.env, savedEnv)
  for (const [key, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[key]
})

describe('PostgreSQL down, then back', () => {
  it('while it is down, the health route answers 503 degraded and startExport answers UNAVAILABLE', async () => {
    expect(await healthOf()).toEqual({ status: 200, body: { status: 'ok', database: 'up' } })
    await stopServer()
    expect(await healthOf()).toEqual({ status: 503, body: { status: 'degraded', database: 'down' } })
    const result = await actions.startExport({ country: 'IS' })
    expect(result).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.any(String) } })
  })

  it('a worker started while it is down keeps retrying and runs jobs once it is up', { timeout: 120_000 }, async () => {
    expect(server).toBeNull()
    worker = startProcess(
      'workers/main.ts',
      {
        DATABASE_URL: url,
        SESSION_SECRET: SECRET,
        REALTIME_PORT: String(realtimePort),
        APP_ORIGIN: 'http://127.0.0.1:9',
        // Every city in about 3.4 s: long enough to restart PostgreSQL in the middle (next test).
        EXPORT_ROWS_PER_SECOND: '40000',
      },
      'worker',
    )
    await worker.waitForLine(/database unavailable .*retrying in 1 s/)
    await worker.waitForLine(/database unavailable .*retrying in 2 s/)
    expect(worker.alive()).toBe(true)

    await startServer()
    await worker.waitForLine(/worker running queues/, 60_000)
    expect(await healthOf()).toEqual({ status: 200, body: { status: 'ok', database: 'up' } })
    const started = await actions.startExport({ country: 'IS' })
    expect(started.ok).toBe(true)
    if (!started.ok) return
    const done = await waitForJob(url, started.value.job.id, ['completed', 'failed', 'cancelled'], 30_000)
    expect(done).toMatchObject({ state: 'completed', attempt: 1, result: { rows: 33 } })
  })

  it(
    'restarted in the middle of an export: the worker stays up, the job ends completed, and the open socket sees it',
    { timeout: 150_000 },
    async () => {
      expect(worker?.alive()).toBe(true)
      const socket: Socket = connectSocket(`http://127.0.0.1:${realtimePort}`, {
        transports: ['websocket'],
        auth: { token: await signRealtimeToken(SECRET, owner) },
        forceNew: true,
      })
      const events: JobSnapshot[] = []
      let onEvent = () => {}
      socket.on(JOB_CHANGED_EVENT, (raw: unknown) => {
        events.push(JobSnapshot.parse(raw))
        onEvent()
      })
      const eventMatching = (predicate: (s: JobSnapshot) => boolean, timeoutMs: number) =>
        new Promise<JobSnapshot>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new Error(`no matching socket event within ${timeoutMs} ms; last: ${JSON.stringify(events.at(-1))}`),
              ),
            timeoutMs,
          )
          onEvent = () => {
            const found = events.find(predicate)
            if (found) {
              clearTimeout(timer)
              resolve(found)
            }
          }
          onEvent()
        })
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve)
          socket.once('connect_error', reject)
        })
        const started = await actions.startExport({})
        expect(started.ok).toBe(true)
        if (!started.ok) return
        const id = started.value.job.id
        await eventMatching((s) => s.id === id && s.state === 'active' && (s.progress?.current ?? 0) > 0, 10_000)

        const restartAt = Date.now()
        await stopServer()
        await startServer()
        const downMs = Date.now() - restartAt

        const completed = await eventMatching((s) => s.id === id && s.state === 'completed', 120_000)
        const tookMs = Date.now() - restartAt
        const row = await waitForJob(url, id, ['completed', 'failed', 'cancelled'], 5_000)
        const path = events
          .filter((s) => s.id === id)
          .sort((a, b) => a.seq - b.seq)
          .map((s) => `${s.state}:${s.attempt}${s.error ? `:${s.error.code}` : ''}`)
          .filter((step, i, all) => step !== all[i - 1])
        console.log(
          `[outage] PostgreSQL down for ${downMs} ms; export completed ${tookMs} ms after the restart began, attempt ${row.attempt}; states seen by the socket: ${path.join(' -> ')}`,
        )
        expect(row).toMatchObject({ state: 'completed', result: { rows: ALL_CITIES } })
        expect(completed).toEqual(row)
        expect(socket.connected).toBe(true)
        expect(worker!.alive()).toBe(true)
        expect(await healthOf()).toEqual({ status: 200, body: { status: 'ok', database: 'up' } })
      } finally {
        socket.disconnect()
      }
      const exit = await stopProcess(worker!)
      expect(exit).toEqual({ code: 0, signal: null })
      expect(worker!.stderr()).not.toMatch(/Cannot use a pool after calling end|Unhandled|uncaught/i)
    },
  )
})
