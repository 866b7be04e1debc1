/**
 * Who is asking: the one seam between this template's anonymous sessions and real auth.
 * Replace `getViewer` (and proxy.ts, which issues the cookie) with your auth library's session
 * lookup; everything else asks `getViewer()` and uses only `viewer.id` as the owner of jobs.
 */
import { cookies } from 'next/headers'
import { webEnv } from '@/lib/server/env'
import { verifySessionToken } from '@/lib/server/tokens'

/** The cookie holding the signed anonymous session (httpOnly, SameSite=Lax). */
export const SESSION_COOKIE = 'nbj_session'

/** The person using the app. `id` owns their jobs. */
export interface Viewer {
  id: string
}

/** The viewer of the current request, or `null` without a valid session cookie. */
export async function getViewer(): Promise<Viewer | null> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value
  if (!token) return null
  const id = await verifySessionToken(webEnv().SESSION_SECRET, token)
  return id ? { id } : null
}
