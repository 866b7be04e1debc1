/**
 * Throttles operator sign-in so a password cannot be guessed: per client and for everyone at once,
 * with exponential backoff, stored in PostgreSQL (`app.login_throttle`) so every web process
 * enforces the same limit. An attempt is counted *before* the password is compared and refused
 * unread while its client (or everyone) is blocked, so a burst gets a handful of guesses, not
 * as many as it sends at once.
 */
import { isIP } from 'node:net'
import type pg from 'pg'
import { withTransaction } from './db'

/** A backoff rule: `freeAttempts` in a window, then blocked `baseSeconds`, doubling per attempt up to `maxSeconds`. */
export interface ThrottleRule {
  freeAttempts: number
  baseSeconds: number
  maxSeconds: number
}

/**
 * One client: 5 attempts, then it waits 10 s, 20 s, 40 s ... up to 15 minutes between attempts.
 * The first wait is long enough that a burst sent at once gets 5 guesses, not one more a second.
 */
export const CLIENT_RULE: ThrottleRule = { freeAttempts: 5, baseSeconds: 10, maxSeconds: 900 }
/**
 * Everyone together (guessing from many addresses): 50 attempts, then 5 s doubling up to 60 s.
 * Capped low on purpose: a global block also stops the real operator, so it must stay short.
 */
export const GLOBAL_RULE: ThrottleRule = { freeAttempts: 50, baseSeconds: 5, maxSeconds: 60 }
/** A key's count starts again after this many minutes without an attempt. */
export const WINDOW_MINUTES = 15

const GLOBAL_KEY = 'global'

export type LoginAttempt = { kind: 'allowed' } | { kind: 'refused'; retryAfterSeconds: number }

/** Seconds a key is blocked after its `attempts`-th counted attempt in a window (0: not blocked). */
export function backoffSeconds(rule: ThrottleRule, attempts: number): number {
  if (attempts < rule.freeAttempts) return 0
  return Math.min(rule.maxSeconds, rule.baseSeconds * 2 ** (attempts - rule.freeAttempts))
}

/**
 * The client's address as a throttle key. `x-forwarded-for` is read only when `trustedHops`
 * proxies of yours append to it: the entry `trustedHops` from the right is the address your
 * outermost proxy saw (anything left of it the client may have written). With 0 hops, or no
 * valid address there, every client shares the key `client:unknown`: still limited, only not
 * told apart (the global rule holds either way).
 */
export function clientAddress(headers: Headers, trustedHops: number): string {
  if (trustedHops > 0) {
    const entries = (headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const address = entries[entries.length - trustedHops]
    if (address && isIP(address)) return `client:${address}`
  }
  return 'client:unknown'
}

/**
 * Counts one sign-in attempt of `client` (a `clientAddress` key) and answers whether it may be
 * checked. Refused while the client or everyone is blocked, with the seconds to wait; a refused
 * attempt is not counted. Locks the client's row, then the global one (always in that order, so
 * concurrent sign-ins never deadlock) on one connection. Throws the database's error: callers
 * must refuse the sign-in then (a limit that cannot be checked is not enforced).
 */
export async function claimLoginAttempt(pool: pg.Pool, client: string): Promise<LoginAttempt> {
  return withTransaction(pool, async (tx) => {
    await tx.query('INSERT INTO app.login_throttle (key) VALUES ($1), ($2) ON CONFLICT (key) DO NOTHING', [
      client,
      GLOBAL_KEY,
    ])
    const { rows } = await tx.query<{ key: string; failures: number; stale: boolean; wait: number }>(
      `SELECT key, failures, last_attempt_at < clock_timestamp() - make_interval(mins => $3) AS stale,
              CASE WHEN blocked_until > clock_timestamp()
                   THEN extract(epoch FROM blocked_until - clock_timestamp())::float8 ELSE 0 END AS wait
         FROM app.login_throttle WHERE key IN ($1, $2) ORDER BY key = $2, key FOR UPDATE`,
      [client, GLOBAL_KEY, WINDOW_MINUTES],
    )
    const wait = Math.max(0, ...rows.map((r) => (r.stale ? 0 : r.wait)))
    if (wait > 0) return { kind: 'refused', retryAfterSeconds: Math.ceil(wait) } as const
    for (const row of rows) {
      const attempts = (row.stale ? 0 : row.failures) + 1
      const rule = row.key === GLOBAL_KEY ? GLOBAL_RULE : CLIENT_RULE
      await tx.query(
        `UPDATE app.login_throttle SET failures = $2, last_attempt_at = clock_timestamp(),
                blocked_until = clock_timestamp() + make_interval(secs => $3) WHERE key = $1`,
        [row.key, attempts, backoffSeconds(rule, attempts)],
      )
    }
    return { kind: 'allowed' } as const
  })
}

/**
 * After the right password: the client starts afresh, and its attempt no longer counts against
 * everyone (nor keeps everyone blocked if it was the one that crossed the global rule's line).
 */
export async function recordLoginSuccess(pool: pg.Pool, client: string): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await tx.query('DELETE FROM app.login_throttle WHERE key = $1', [client])
    await tx.query(
      `UPDATE app.login_throttle SET failures = greatest(failures - 1, 0),
              blocked_until = CASE WHEN failures - 1 < $2 THEN '-infinity' ELSE blocked_until END
        WHERE key = $1`,
      [GLOBAL_KEY, GLOBAL_RULE.freeAttempts],
    )
  })
}
