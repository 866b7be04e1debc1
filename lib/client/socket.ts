'use client'
/**
 * One socket.io connection per browser tab (and scope) to the worker's realtime server. It is
 * created on first use and shared: by every view, under React StrictMode's double effects, across
 * navigation and hot reloads. `JobsProvider` (jobs-provider.tsx) is its only user. Before every (re)connect it fetches
 * a fresh short-lived token from /api/realtime-token, so token expiry never shows to the user.
 */
import { io, type Socket } from 'socket.io-client'
import { z } from 'zod'

const TokenResponse = z.object({ token: z.string(), url: z.url() })

/** `viewer`: the tab's own jobs. `operator`: every job (operators signed in at /admin only). */
export type SocketScope = 'viewer' | 'operator'

async function fetchToken(scope: SocketScope): Promise<z.infer<typeof TokenResponse>> {
  const response = await fetch(`/api/realtime-token${scope === 'operator' ? '?scope=operator' : ''}`, {
    cache: 'no-store',
    credentials: 'same-origin',
  })
  if (!response.ok) throw new Error(`realtime token: HTTP ${response.status}`)
  return TokenResponse.parse(await response.json())
}

// Kept on globalThis, not in the module: in development, hot reload re-runs an edited module, and a
// fresh map would open a second socket while the first stays connected. One tab, one socket per scope.
const SOCKETS = Symbol.for('nbj.sockets')
const sockets: Map<SocketScope, Promise<Socket>> = ((globalThis as { [SOCKETS]?: Map<SocketScope, Promise<Socket>> })[
  SOCKETS
] ??= new Map())

/** The tab's socket for `scope` (default `viewer`), connecting on first call. */
export function getSocket(scope: SocketScope = 'viewer'): Promise<Socket> {
  const existing = sockets.get(scope)
  if (existing) return existing
  const socket = fetchToken(scope).then(
    ({ url, token }) => {
      let first: string | null = token
      const s = io(url, {
        transports: ['websocket'],
        // After a network cut, be back within about 2 s of the network returning.
        reconnectionDelay: 500,
        reconnectionDelayMax: 2000,
        auth: (cb) => {
          const reuse = first
          first = null
          if (reuse) return cb({ token: reuse })
          fetchToken(scope).then(
            ({ token: fresh }) => cb({ token: fresh }),
            () => cb({ token: '' }),
          )
        },
      })
      // socket.io does not retry by itself after the server refused a handshake (an expired or
      // missing token): retry with a fresh token, a little later each time.
      let refusals = 0
      s.on('connect', () => {
        refusals = 0
      })
      s.on('connect_error', () => {
        if (!s.active) setTimeout(() => s.connect(), Math.min(30_000, 1_000 * 2 ** refusals++))
      })
      // The browser says when the network is back: reconnect now instead of at the next backoff
      // step (up to reconnectionDelayMax later), so the tab catches up within about 2 s.
      window.addEventListener('online', () => {
        if (!s.connected) s.disconnect().connect()
      })
      // Back/forward cache: close the connection as the page goes in (Chrome cuts it anyway, and the
      // page only hears of it on its return), and open it again at once when the page comes back
      // rather than after a reconnect backoff. JobsProvider refetches then.
      window.addEventListener('pagehide', (event) => {
        if (event.persisted) s.disconnect()
      })
      window.addEventListener('pageshow', (event) => {
        if (event.persisted && !s.connected) s.connect()
      })
      return s
    },
    (err) => {
      // Let a later call try again (the web tier may have been restarting).
      sockets.delete(scope)
      throw err
    },
  )
  sockets.set(scope, socket)
  return socket
}
