/**
 * The web tier's pool under a burst, as a freshly started web process meets it: the real Server
 * Actions (lib/actions/emails.ts, lib/actions/jobs.ts) on the real `webPool()` (its size and timeouts
 * from `webPoolOptions`), a producer that has not started yet, and 200 concurrent calls over 20
 * viewers. Only `next/headers` is replaced, so each call carries the session the test chooses.
 * A call that waited for a second connection while holding one would time out as UNAVAILABLE.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ActionResult } from '@/lib/jobs/result'
import { closeWebTier, setupTestDatabase, setupTestWorker } from '@/test/kit'
import { createLogger } from '@/workers/logger'

const session = vi.hoisted(() => ({ cookie: undefined as string | undefined }))

vi.mock('next/headers', async () => (await import('@/test/session-cookie')).sessionHeaders(session))

const SECRET = 'web-pool-secret-web-pool-secret-web-pool-secret'
const VIEWERS = 20
const CALLS = 200

let tokens: typeof import('@/lib/server/tokens')

const db = setupTestDatabase({ poolMax: 2 })

beforeAll(() => {
  vi.stubEnv('DATABASE_URL', db.url)
  vi.stubEnv('SESSION_SECRET', SECRET)
})

// A worker creates the queues (pg-boss refuses jobs for a queue it does not know), then stops:
// the burst below measures the web tier alone.
const worker = setupTestWorker(
  db,
  async () => {
    const { ExportQueue } = await import('@/workers/queues/export-queue')
    const { DeferredQueue } = await import('@/workers/queues/deferred-queue')
    return [ExportQueue as never, DeferredQueue as never]
  },
  { secret: SECRET, log: { ...createLogger('web-pool-worker'), info: () => undefined }, stopGraceMs: 2_000 },
)

beforeAll(async () => {
  await worker.stop(2_000)
})

afterAll(async () => {
  await closeWebTier()
  vi.unstubAllEnvs()
})

/** A fresh module graph and no pool: what a web process that just started has. */
async function freshWebProcess() {
  await closeWebTier()
  vi.resetModules()
  tokens = await import('@/lib/server/tokens')
  return {
    emails: await import('@/lib/actions/emails'),
    dashboard: await import('@/lib/actions/jobs'),
    db: await import('@/lib/server/db'),
  }
}

async function viewers(): Promise<{ id: string; cookie: string }[]> {
  return Promise.all(
    Array.from({ length: VIEWERS }, async () => {
      const id = randomUUID()
      return { id, cookie: await tokens.signSessionToken(SECRET, id) }
    }),
  )
}

/** Calls `call` CALLS times at once, round-robin over `people`, each with its own session. */
function burst<T>(
  people: { cookie: string }[],
  call: (i: number) => Promise<ActionResult<T>>,
): Promise<ActionResult<T>[]> {
  return Promise.all(
    Array.from({ length: CALLS }, (_, i) => {
      session.cookie = people[i % people.length]!.cookie
      return call(i)
    }),
  )
}

function codes(results: ActionResult<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of results) {
    const key = r.ok ? 'ok' : r.error.code
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

describe('a freshly started web process under a burst', () => {
  it('queues 200 concurrent welcome emails from 20 viewers with no UNAVAILABLE, each stored once', async () => {
    const web = await freshWebProcess()
    expect(web.db.webPoolOptions().max).toBe(10)
    const people = await viewers()
    const results = await burst(people, (i) => web.emails.sendWelcome({ email: `reader-${i}@example.com` }))
    expect(codes(results)).toEqual({ ok: CALLS })
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM app.jobs WHERE queue = 'deferred' AND owner_id = ANY($1)`,
      [people.map((p) => p.id)],
    )
    expect(rows[0]!.n).toBe(CALLS)
  })

  it('starts 200 concurrent exports from 20 viewers with no UNAVAILABLE: each viewer gets exactly its limit', async () => {
    const web = await freshWebProcess()
    const people = await viewers()
    const results = await burst(people, () => web.dashboard.startExport({ country: 'IS' }))
    // Five per viewer (EXPORT_LIMIT_PER_VIEWER's default), the rest LIMITED; never UNAVAILABLE.
    expect(codes(results)).toEqual({ ok: VIEWERS * 5, LIMITED: CALLS - VIEWERS * 5 })
  })
})

describe('idempotency before limits', () => {
  it('a repeated welcome to an address I was already sent returns that same job, even at my hourly limit', async () => {
    const web = await freshWebProcess()
    const [me] = await viewers()
    session.cookie = me!.cookie
    const first = await web.emails.sendWelcome({ email: 'Ada@Example.com' })
    if (!first.ok) throw new Error(JSON.stringify(first.error))
    for (let i = 1; i < 20; i++) {
      session.cookie = me!.cookie
      expect((await web.emails.sendWelcome({ email: `friend-${i}@example.com` })).ok).toBe(true)
    }
    session.cookie = me!.cookie
    const limited = await web.emails.sendWelcome({ email: 'someone-new@example.com' })
    expect(limited).toMatchObject({ ok: false, error: { code: 'LIMITED' } })
    session.cookie = me!.cookie
    const again = await web.emails.sendWelcome({ email: 'ada@example.com' })
    expect(again).toEqual({ ok: true, value: { job: first.value.job } })
  })

  it('enqueueWithinLimit returns the job an idempotency key already made, even when the owner is at the limit', async () => {
    const web = await freshWebProcess()
    const { enqueueWithinLimit } = await import('@/lib/server/enqueue-limited')
    const pool = web.db.webPool()
    const owner = randomUUID()
    const job = { queue: 'exports', ownerId: owner, payload: { country: 'IS' } }
    const first = await enqueueWithinLimit(pool, job, 2, { idempotencyKey: 'report-1' })
    expect(first.kind).toBe('enqueued')
    expect((await enqueueWithinLimit(pool, job, 2)).kind).toBe('enqueued')
    expect(await enqueueWithinLimit(pool, job, 2)).toEqual({ kind: 'limited', limit: 2 })
    expect(await enqueueWithinLimit(pool, job, 2, { idempotencyKey: 'report-1' })).toEqual(first)
    expect(await enqueueWithinLimit(pool, job, 2, { idempotencyKey: 'report-2' })).toEqual({
      kind: 'limited',
      limit: 2,
    })
  })
})
