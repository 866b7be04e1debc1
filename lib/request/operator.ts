/**
 * The operator gate of /admin: one shared password from ADMIN_PASSWORD (unset: /admin is off),
 * exchanged for a signed httpOnly cookie valid 8 hours. Swap for your auth's role check when you
 * plug in real auth: everything else asks `getOperator()`.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { cookies } from 'next/headers'
import { webEnv } from '@/lib/server/env'
import { OPERATOR_TTL_S, signOperatorToken, verifyOperatorToken } from '@/lib/server/tokens'

export const OPERATOR_COOKIE = 'nbj_operator'

export interface Operator {
  id: string
}

/** Whether the operator view is enabled (ADMIN_PASSWORD is set). */
export function operatorViewEnabled(): boolean {
  return webEnv().ADMIN_PASSWORD !== undefined
}

/** The signed-in operator of this request, or null. */
export async function getOperator(): Promise<Operator | null> {
  if (!operatorViewEnabled()) return null
  const token = (await cookies()).get(OPERATOR_COOKIE)?.value
  const id = token ? await verifyOperatorToken(webEnv().SESSION_SECRET, token) : null
  return id ? { id } : null
}

/** Compares in constant time (of the digests), so the response time says nothing about the password. */
export function passwordMatches(candidate: string): boolean {
  const expected = webEnv().ADMIN_PASSWORD
  if (!expected) return false
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(candidate), digest(expected))
}

/** Sets the operator cookie for a new operator session. */
export async function signInOperator(secure: boolean): Promise<void> {
  const token = await signOperatorToken(webEnv().SESSION_SECRET, randomUUID())
  ;(await cookies()).set({
    name: OPERATOR_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/',
    maxAge: OPERATOR_TTL_S,
  })
}

export async function signOutOperator(): Promise<void> {
  ;(await cookies()).delete(OPERATOR_COOKIE)
}
