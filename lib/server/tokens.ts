/**
 * Signed tokens (JWT, HS256 via jose) keyed by SESSION_SECRET. Four kinds, told apart by audience
 * so one can never stand in for another:
 * - session: the anonymous viewer's identity, in an httpOnly cookie, valid `SESSION_TTL_S`.
 * - realtime: lets a browser open a socket as that viewer, valid `REALTIME_TOKEN_TTL_S`.
 * - operator: an operator's sign-in (/admin), in an httpOnly cookie, valid `OPERATOR_TTL_S`.
 * - operator-realtime: lets an operator's browser receive every job's events, valid `REALTIME_TOKEN_TTL_S`.
 */
import { jwtVerify, SignJWT } from 'jose'
import { z } from 'zod'

/** Session cookie lifetime, in seconds (400 days, the most browsers keep a cookie). */
export const SESSION_TTL_S = 400 * 24 * 60 * 60
/** Realtime token lifetime, in seconds (5 minutes); the client fetches a new one on every (re)connect. */
export const REALTIME_TOKEN_TTL_S = 5 * 60
/** Operator sign-in lifetime, in seconds (8 hours). */
export const OPERATOR_TTL_S = 8 * 60 * 60

const ISSUER = 'next-background-jobs'
type Audience = 'session' | 'realtime' | 'operator' | 'operator-realtime'

const Claims = z.object({ sub: z.uuid() })

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret)
}

/** Signs a token for `viewerId` with the given audience and lifetime. */
async function sign(secret: string, viewerId: string, audience: Audience, ttlSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewerId)
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key(secret))
}

/** The viewer id in a valid, unexpired token of `audience`, or `null` for anything else. */
async function verify(secret: string, token: string, audience: Audience): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, audience, algorithms: ['HS256'] })
    const claims = Claims.safeParse(payload)
    return claims.success ? claims.data.sub : null
  } catch {
    return null
  }
}

export const signSessionToken = (secret: string, viewerId: string) => sign(secret, viewerId, 'session', SESSION_TTL_S)
export const verifySessionToken = (secret: string, token: string) => verify(secret, token, 'session')
export const signRealtimeToken = (secret: string, viewerId: string) =>
  sign(secret, viewerId, 'realtime', REALTIME_TOKEN_TTL_S)
export const verifyRealtimeToken = (secret: string, token: string) => verify(secret, token, 'realtime')
export const signOperatorToken = (secret: string, operatorId: string) =>
  sign(secret, operatorId, 'operator', OPERATOR_TTL_S)
export const verifyOperatorToken = (secret: string, token: string) => verify(secret, token, 'operator')
export const signOperatorRealtimeToken = (secret: string, operatorId: string) =>
  sign(secret, operatorId, 'operator-realtime', REALTIME_TOKEN_TTL_S)
export const verifyOperatorRealtimeToken = (secret: string, token: string) => verify(secret, token, 'operator-realtime')
