/**
 * GET /api/realtime-token — a short-lived token (lib/server/tokens.ts) that lets this browser open
 * a socket to the worker's realtime server as its own viewer, and where that server is.
 * `?scope=operator` asks for an operator token (every job's events): signed-in operators only.
 * The socket client calls it before every (re)connect, so expiry never shows to the user.
 */
import { webEnv } from '@/lib/server/env'
import { getOperator } from '@/lib/request/operator'
import { REALTIME_TOKEN_TTL_S, signOperatorRealtimeToken, signRealtimeToken } from '@/lib/server/tokens'
import { getViewer } from '@/lib/request/viewer'

const unauthorized = () =>
  Response.json(
    { error: { code: 'UNAUTHORIZED', message: 'No session.' } },
    { status: 401, headers: { 'cache-control': 'no-store' } },
  )

export async function GET(request: Request) {
  const { SESSION_SECRET, REALTIME_URL } = webEnv()
  let token: string
  if (new URL(request.url).searchParams.get('scope') === 'operator') {
    const operator = await getOperator()
    if (!operator) return unauthorized()
    token = await signOperatorRealtimeToken(SESSION_SECRET, operator.id)
  } else {
    const viewer = await getViewer()
    if (!viewer) return unauthorized()
    token = await signRealtimeToken(SESSION_SECRET, viewer.id)
  }
  return Response.json(
    { token, url: REALTIME_URL, expiresInSeconds: REALTIME_TOKEN_TTL_S },
    { headers: { 'cache-control': 'no-store' } },
  )
}
