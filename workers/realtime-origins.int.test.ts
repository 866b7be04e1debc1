/**
 * Who may open a socket: `APP_ORIGIN` is checked on every handshake, websocket and polling alike,
 * so a page on another site cannot open a socket even with a valid token.
 */
import { io as connectSocket, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { signRealtimeToken } from '@/lib/server/tokens'
import { setupTestDatabase } from '@/test/kit'
import { type Realtime, startRealtime } from './realtime'

const SECRET = 'o'.repeat(40)
const APP = 'http://app.example.test:3000'
const FOREIGN = 'https://evil.example.test'
const viewer = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'

const db = setupTestDatabase()
let realtime: Realtime
let url: string
const sockets: Socket[] = []

beforeAll(async () => {
  const quiet = () => undefined
  realtime = await startRealtime({
    pool: db.pool,
    secret: SECRET,
    log: { info: quiet, warn: quiet, error: quiet },
    port: 0,
    origins: [APP, 'https://second.example.test'],
  })
  url = `http://127.0.0.1:${realtime.port}`
})

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

afterAll(async () => {
  await realtime?.close()
})

/** Opens a socket with a valid viewer token from `origin`; resolves how the handshake ended. */
async function connectFrom(origin: string | undefined, transport: 'websocket' | 'polling') {
  const token = await signRealtimeToken(SECRET, viewer)
  const socket = connectSocket(url, {
    transports: [transport],
    forceNew: true,
    reconnection: false,
    timeout: 10_000,
    auth: { token },
    extraHeaders: origin ? { Origin: origin } : {},
  })
  sockets.push(socket)
  return new Promise<'connected' | string>((resolve) => {
    socket.once('connect', () => resolve('connected'))
    socket.once('connect_error', (err) => resolve(`refused: ${err.message}`))
  })
}

describe('socket origins', () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`a page of the app opens a socket over ${transport}`, async () => {
      expect(await connectFrom(APP, transport)).toBe('connected')
      expect(await connectFrom('https://second.example.test', transport)).toBe('connected')
    })

    it(`a page on another site is refused over ${transport}, even with a valid token`, async () => {
      expect(await connectFrom(FOREIGN, transport)).toMatch(/^refused/)
      // Same host, another port or scheme, is another origin.
      expect(await connectFrom('http://app.example.test:3001', transport)).toMatch(/^refused/)
      expect(await connectFrom('null', transport)).toMatch(/^refused/)
    })
  }

  it('a foreign page gets no socket.io session at all over raw polling (403)', async () => {
    const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: FOREIGN } })
    expect(response.status).toBe(403)
    const allowed = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: APP } })
    expect(allowed.status).toBe(200)
    await allowed.text()
  })

  it('a client that is not a browser page (no Origin) still needs a valid token', async () => {
    expect(await connectFrom(undefined, 'websocket')).toBe('connected')
    const socket = connectSocket(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      auth: { token: 'forged' },
    })
    sockets.push(socket)
    const outcome = await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'))
      socket.once('connect_error', (err) => resolve(err.message))
    })
    expect(outcome).toBe('UNAUTHORIZED')
  })
})
