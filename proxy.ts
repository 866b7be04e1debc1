/**
 * Gives every browser an anonymous session: a signed, httpOnly cookie naming a random viewer id.
 * With real auth, replace this with your auth library's proxy and keep `getViewer()` as the seam.
 */
import { randomUUID } from 'node:crypto'
import { NextResponse, type NextRequest } from 'next/server'
import { webEnv } from '@/lib/server/env'
import { SESSION_TTL_S, signSessionToken, verifySessionToken } from '@/lib/server/tokens'
import { SESSION_COOKIE } from '@/lib/request/viewer'

export async function proxy(request: NextRequest) {
  // A path that is not valid percent-encoded UTF-8 would reach Next's router and fail there with a
  // bare 500 (vercel/next.js#92527): answer it as the bad request it is.
  try {
    decodeURIComponent(request.nextUrl.pathname)
  } catch {
    return new NextResponse('Bad request: the path is not valid percent-encoded UTF-8.', {
      status: 400,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    })
  }
  const secret = webEnv().SESSION_SECRET
  const current = request.cookies.get(SESSION_COOKIE)?.value
  if (current && (await verifySessionToken(secret, current))) return NextResponse.next()

  const token = await signSessionToken(secret, randomUUID())
  // Set it on the request too, so the page rendered for this very request sees the new session.
  request.cookies.set(SESSION_COOKIE, token)
  const response = NextResponse.next({ request: { headers: request.headers } })
  response.cookies.set({
    name: SESSION_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: 'lax',
    secure: request.nextUrl.protocol === 'https:',
    path: '/',
    maxAge: SESSION_TTL_S,
  })
  return response
}

export const config = {
  // Static files need no session: Next's build output, the health check, and the assets in public/
  // (by extension, so a file added there is skipped without editing this line). Downloads are
  // /downloads/<uuid>, never an extension, so they still get the session their owner check needs.
  // Not /api/imports: Next buffers the body of every request the proxy sees (up to 10 MB, then
  // cuts it), and that route streams uploads of up to IMPORT_MAX_BYTES. It reads the session itself.
  matcher: [
    '/((?!_next/static|_next/image|api/health|api/imports|[^?]*\\.(?:svg|png|jpe?g|gif|webp|ico|txt|xml|webmanifest)).*)',
  ],
}
