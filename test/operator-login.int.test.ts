/**
 * Operator sign-in as a password guesser meets it: the real form action (lib/actions/operator.ts)
 * against a real database, bursts of wrong passwords from one address and from many, and the
 * right password after the wait. Only `next/headers` (the request's headers and cookies) and
 * `redirect` are replaced; the client address arrives as a trusted proxy (TRUST_PROXY_HOPS=1)
 * would pass it.
 */
import pg from 'pg'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { setupTestDatabase, setupWebTier } from '@/test/kit'

const request = vi.hoisted(() => ({ address: '203.0.113.7', cookiesSet: 0 }))

vi.mock('next/headers', () => ({
  headers: async () => {
    const address = request.address
    return new Headers({ 'x-forwarded-for': `10.9.8.7, ${address}`, 'x-forwarded-proto': 'http' })
  },
  cookies: async () => ({
    get: () => undefined,
    set: () => void request.cookiesSet++,
    delete: () => undefined,
  }),
}))
vi.mock('next/navigation', () => ({
  redirect: (to: string) => {
    throw Object.assign(new Error(`redirect to ${to}`), { redirectedTo: to })
  },
}))

const PASSWORD = 'the-right-operator-password'

let signIn: (previous: string | null, form: FormData) => Promise<string | null>

const db = setupTestDatabase({ poolMax: 2 })
setupWebTier(db, {
  SESSION_SECRET: 'operator-login-secret-operator-login-secret',
  ADMIN_PASSWORD: PASSWORD,
  TRUST_PROXY_HOPS: '1',
})

beforeAll(async () => {
  signIn = (await import('@/lib/actions/operator')).operatorSignIn
})

beforeEach(async () => {
  await db.pool.query('DELETE FROM app.login_throttle')
})

/** Submits the form from `address`: the message shown, or 'signed in' when it redirected to /admin/jobs. */
async function attempt(address: string, password: string): Promise<string> {
  request.address = address
  const form = new FormData()
  form.set('password', password)
  try {
    return (await signIn(null, form)) ?? 'no answer'
  } catch (err) {
    if ((err as { redirectedTo?: string }).redirectedTo === '/admin/jobs') return 'signed in'
    throw err
  }
}

function tally(answers: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const a of answers) {
    const key = a.startsWith('Too many attempts') ? 'Too many attempts' : a
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

/** The wait an answer names, in milliseconds ("Try again in 2 s."). */
function waitOf(answer: string): number {
  const match = /Try again in (\d+) s\./.exec(answer)
  if (!match) throw new Error(`no wait in: ${answer}`)
  return Number(match[1]) * 1000
}

describe('operator sign-in', () => {
  it('60 wrong passwords at once from one address get 5 answers; the rest, and then the right password, are refused until the wait is over', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt('203.0.113.7', `guess-${i}`)))
    expect(tally(answers)).toEqual({ 'Wrong password.': 5, 'Too many attempts': 55 })

    const refused = await attempt('203.0.113.7', PASSWORD)
    expect(refused).toMatch(/^Too many attempts\. Try again in \d+ s\.$/)
    expect(request.cookiesSet).toBe(0)

    // Someone else (another address) is not held up meanwhile.
    expect(await attempt('198.51.100.9', PASSWORD)).toBe('signed in')

    // The wait the answer named is the real one: after it, the right password works.
    await new Promise((resolve) => setTimeout(resolve, waitOf(refused) + 250))
    expect(await attempt('203.0.113.7', PASSWORD)).toBe('signed in')
    // And that address starts afresh: the next wrong guess is answered, not refused.
    expect(await attempt('203.0.113.7', 'wrong-again')).toBe('Wrong password.')
  })

  it('guessing from many addresses is stopped for everyone after 50, and the right password works after the wait', async () => {
    const addresses = Array.from({ length: 14 }, (_, i) => `192.0.2.${i + 1}`)
    const answers = await Promise.all(
      addresses.flatMap((address) => Array.from({ length: 5 }, (_, i) => attempt(address, `guess-${i}`))),
    )
    expect(tally(answers)).toEqual({ 'Wrong password.': 50, 'Too many attempts': 20 })

    const refused = await attempt('198.51.100.200', PASSWORD)
    expect(refused).toMatch(/^Too many attempts\. Try again in \d+ s\.$/)
    await new Promise((resolve) => setTimeout(resolve, waitOf(refused) + 250))
    expect(await attempt('198.51.100.200', PASSWORD)).toBe('signed in')
  })

  it('the limit is kept in the database, so a second web process enforces the same one', async () => {
    for (let i = 0; i < 5; i++) expect(await attempt('203.0.113.50', `guess-${i}`)).toBe('Wrong password.')
    // A second web process: a fresh module graph and a pool of its own.
    const first = (globalThis as { __nbjWebPool?: pg.Pool }).__nbjWebPool
    delete (globalThis as { __nbjWebPool?: pg.Pool }).__nbjWebPool
    vi.resetModules()
    const second = (await import('@/lib/actions/operator')).operatorSignIn
    request.address = '203.0.113.50'
    const form = new FormData()
    form.set('password', PASSWORD)
    expect(await second(null, form)).toMatch(/^Too many attempts/)
    await (globalThis as { __nbjWebPool?: pg.Pool }).__nbjWebPool?.end()
    ;(globalThis as { __nbjWebPool?: pg.Pool }).__nbjWebPool = first
  })
})
