/**
 * GET /api/realtime-token — a short-lived token (lib/server/tokens.ts) that lets this browser open
 * a socket to the worker's realtime server as its own viewer, and where that server is.
 * The socket client calls it before every (re)connect, so expiry never shows to the user.
 */
import { env } from '@/lib/server/env'
import { REALTIME_TOKEN_TTL_S, signRealtimeToken } from '@/lib/server/tokens'
import { getViewer } from '@/lib/server/viewer'

export async function GET() {
  const viewer = await getViewer()
  if (!viewer) return Response.json({ error: { code: 'UNAUTHORIZED', message: 'No session.' } }, { status: 401 })
  const { SESSION_SECRET, REALTIME_URL } = env()
  const token = await signRealtimeToken(SESSION_SECRET, viewer.id)
  return Response.json(
    { token, url: REALTIME_URL, expiresInSeconds: REALTIME_TOKEN_TTL_S },
    { headers: { 'cache-control': 'no-store' } },
  )
}
