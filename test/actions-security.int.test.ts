/**
 * The dashboard's Server Actions as an attacker calls them: another viewer's job ids, no or forged
 * sessions, thousands of generated malformed inputs, and a burst of concurrent exports. The actions
 * run for real (lib/actions/jobs.ts) against a real database and worker; only `next/headers` is
 * replaced, so each call carries the session cookie the test chooses.
 */
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ActionResult } from '@/lib/jobs/result'
import { setupTestDatabase, setupTestWorker, setupWebTier, waitForJob } from '@/test/kit'
import { createLogger } from '@/workers/logger'

/** The cookie `cookies()` answers with; read when an action starts (see the mock below). */
const session = vi.hoisted(() => ({ cookie: undefined as string | undefined }))

vi.mock('next/headers', async () => (await import('@/test/session-cookie')).sessionHeaders(session))

const SECRET = 'actions-security-secret-actions-security-secret'
const ISSUER = 'next-background-jobs'
const LIMIT = 5

type Actions = typeof import('@/lib/actions/jobs')
let actions: Actions
let tokens: typeof import('@/lib/server/tokens')

const db = setupTestDatabase({ poolMax: 2 })
setupWebTier(db, {
  SESSION_SECRET: SECRET,
  EXPORT_LIMIT_PER_VIEWER: String(LIMIT),
  // Slow exports down (an export of every city takes about a minute) so running jobs stay running.
  EXPORT_ROWS_PER_SECOND: '2000',
})

beforeAll(async () => {
  actions = await import('@/lib/actions/jobs')
  tokens = await import('@/lib/server/tokens')
})

setupTestWorker(db, async () => [(await import('@/workers/queues/export-queue')).ExportQueue as never], {
  secret: SECRET,
  log: { ...createLogger('security-worker'), info: () => undefined },
  stopGraceMs: 2_000,
})

afterAll(async () => {
  await cancelEverything().catch(() => undefined)
})

/** A signed session cookie for `viewerId`, as proxy.ts issues it. */
function sessionOf(viewerId: string): Promise<string> {
  return tokens.signSessionToken(SECRET, viewerId)
}

/** Cancels every unsettled job (so the worker stops quickly and limits free up). */
async function cancelEverything(): Promise<void> {
  const { requestCancel } = await import('@/lib/server/job-store')
  const { rows } = await db.pool.query<{ id: string; owner_id: string }>(
    `SELECT id, owner_id FROM app.jobs WHERE state IN ('queued', 'active')`,
  )
  for (const row of rows) await requestCancel(db.pool, row.id, row.owner_id)
}

async function jobCount(): Promise<number> {
  return (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.jobs')).rows[0]!.n
}

function expectOk<T>(result: ActionResult<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.error)}`)
  return result.value
}

const NOT_FOUND = { ok: false, error: { code: 'NOT_FOUND', message: 'No such job.' } }

describe('ownership', () => {
  it('another viewer asking about or cancelling my running export gets NOT_FOUND, as for a job that does not exist, and my export keeps running', async () => {
    const mine = await sessionOf(randomUUID())
    const theirs = await sessionOf(randomUUID())
    session.cookie = mine
    const { job } = expectOk(await actions.startExport({}))
    await waitForJob(db.url, job.id, 'active')

    session.cookie = theirs
    const unknown = randomUUID()
    expect(await actions.jobStatus({ jobId: job.id })).toEqual(NOT_FOUND)
    expect(await actions.jobStatus({ jobId: unknown })).toEqual(NOT_FOUND)
    expect(await actions.cancelJob({ jobId: job.id })).toEqual(NOT_FOUND)
    expect(await actions.cancelJob({ jobId: unknown })).toEqual(NOT_FOUND)
    // Upper case is the same UUID to PostgreSQL: still not theirs.
    expect(await actions.cancelJob({ jobId: job.id.toUpperCase() })).toEqual(NOT_FOUND)
    expect(expectOk(await actions.listJobs({})).jobs.map((j) => j.id)).not.toContain(job.id)

    // Nothing was recorded against my job, and it keeps making progress.
    const { rows } = await db.pool.query(
      'SELECT state, cancel_requested_at, cancelled_by FROM app.jobs WHERE id = $1',
      [job.id],
    )
    expect(rows[0]).toEqual({ state: 'active', cancel_requested_at: null, cancelled_by: null })
    session.cookie = mine
    const now = expectOk(await actions.jobStatus({ jobId: job.id })).job
    expect(now).toMatchObject({ state: 'active', cancelRequested: false })
    const current = now.progress?.current ?? 0
    await expect
      .poll(
        async () => {
          session.cookie = mine
          return expectOk(await actions.jobStatus({ jobId: job.id })).job.progress?.current ?? 0
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBeGreaterThan(current)

    session.cookie = mine
    expect(expectOk(await actions.cancelJob({ jobId: job.id })).job.cancelRequested).toBe(true)
    await waitForJob(db.url, job.id, 'cancelled')
  })

  it('without a session, or with a cookie that is not a valid session, every action answers NOT_FOUND and changes nothing', async () => {
    const owner = randomUUID()
    session.cookie = await sessionOf(owner)
    const { job } = expectOk(await actions.startExport({ country: 'IS' }))
    const done = await waitForJob(db.url, job.id, 'completed')
    const now = Math.floor(Date.now() / 1000)
    const key = new TextEncoder().encode(SECRET)
    const base64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const forged: [string, string | undefined][] = [
      ['no cookie', undefined],
      ['an empty cookie', ''],
      ['a cookie that is not a token', 'not-a-token'],
      ['the owner id itself', owner],
      ['a session token signed with another secret', await tokens.signSessionToken('x'.repeat(40), owner)],
      ['a realtime token of the owner (another audience)', await tokens.signRealtimeToken(SECRET, owner)],
      [
        'an expired session token of the owner',
        await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(owner)
          .setIssuer(ISSUER)
          .setAudience('session')
          .setIssuedAt(now - 600)
          .setExpirationTime(now - 60)
          .sign(key),
      ],
      [
        'an unsigned ("alg": "none") token of the owner',
        `${base64({ alg: 'none' })}.${base64({ sub: owner, iss: ISSUER, aud: 'session', exp: now + 600 })}.`,
      ],
      [
        'a session token whose subject is not a UUID',
        await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('admin')
          .setIssuer(ISSUER)
          .setAudience('session')
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .sign(key),
      ],
    ]
    const before = await jobCount()
    for (const [what, cookie] of forged) {
      session.cookie = cookie
      for (const answer of [
        await actions.jobStatus({ jobId: job.id }),
        await actions.cancelJob({ jobId: job.id }),
        await actions.listJobs({}),
        await actions.startExport({ country: 'IS' }),
      ])
        expect(answer, what).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    }
    expect(await jobCount()).toBe(before)
    session.cookie = await sessionOf(owner)
    expect(expectOk(await actions.jobStatus({ jobId: job.id })).job).toEqual(done)
  })
})

// ---------------------------------------------------------------------------------------------
// Bad input, property-based. An oracle written from the documented rules (not from the schemas)
// says whether an input is valid and which fields are wrong; the action must agree exactly.

const TEN_MB = 'a'.repeat(10 * 1024 * 1024)
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort()

/** Stands for the 10 MB string in generated inputs, so a failure report prints a short name. */
class Big {
  [fc.toStringMethod]() {
    return '<10 MB string>'
  }
}
const big = (value: unknown) => (value instanceof Big ? TEN_MB : value)

class Fields {
  nameContains = 'san'
}
const exotic = fc.constantFrom<unknown>(
  new Map([['country', 'BR']]),
  new Set(['country']),
  new Date(0),
  new URLSearchParams('country=BR'),
  new Uint8Array(3),
  new Fields(),
  new Error('x'),
  Promise.resolve({}),
  () => ({}),
  Symbol('s'),
  new FormData(),
  (() => {
    const f = new FormData()
    f.set('country', 'BR')
    return f
  })(),
)

const textValue = fc.oneof(
  { weight: 40, arbitrary: fc.string({ maxLength: 120 }) },
  { weight: 10, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 40,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\t\n\r ',
      '\u00A0\uFEFF',
      'a\u0000b',
      '\u0000',
      '\uD800',
      'x\uDFFF',
      '\uDBFF\uDFFF',
      'São',
      '🇧🇷',
      'br',
      'BR',
      ' br ',
      'B1',
      'ÜS',
      'bra',
      '0',
      '00',
      '-5',
      '-0',
      '+5',
      '5.5',
      '5.0',
      '1e3',
      '10000000000',
      '10000000001',
      '0x10',
      ' 42 ',
      'NaN',
      'Infinity',
      '__proto__',
      '../../etc/passwd',
      "' OR 1=1 --",
      'a'.repeat(100),
      'a'.repeat(101),
      `${' '.repeat(200)}x`,
      '11111111-1111-4111-8111-111111111111',
    ),
  },
  {
    weight: 10,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 5 }), fc.constantFrom('\uD800', '\uDC00', '\u0000'), fc.string({ maxLength: 5 }))
      .map((p) => p.join('')),
  },
  {
    weight: 10,
    arbitrary: fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.uuid().map((u) => u.replace(/-/g, '')),
      fc.uuid().map((u) => ` ${u}`),
      fc.uuid().map((u) => `${u}\u0000`),
    ),
  },
  { weight: 1, arbitrary: fc.constant(new Big()) },
)
const numberValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    -1,
    -0,
    0,
    1,
    5000,
    1e10,
    1e10 + 1,
    -42.5,
    0.5,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 2,
  ),
)
const otherValue = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, true, false, 10n, -1n),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
  exotic,
)
const anyValue = fc.oneof(
  { weight: 5, arbitrary: textValue },
  { weight: 3, arbitrary: numberValue },
  { weight: 2, arbitrary: otherValue },
)

const SUSPICIOUS_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'input',
  '',
  'nameContains ',
  'NameContains',
  'jobId',
  'country',
  'x',
]

/** Objects whose own keys (including `__proto__`, as JSON.parse makes them) are `known` and worse. */
function objectsOf(known: string[]) {
  const key = fc.oneof(
    { weight: 6, arbitrary: known.length ? fc.constantFrom(...known) : fc.constant('x') },
    { weight: 2, arbitrary: fc.constantFrom(...SUSPICIOUS_KEYS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  )
  return fc.array(fc.tuple(key, anyValue), { maxLength: 4 }).map((entries) => {
    const input: Record<string, unknown> = {}
    for (const [k, v] of entries)
      Object.defineProperty(input, k, { value: v, enumerable: true, writable: true, configurable: true })
    return input
  })
}

const prototypeAttacks = fc
  .constantFrom(
    '{"__proto__": {"country": "BR"}}',
    '{"__proto__": null}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"nameContains": "a", "__proto__": {"polluted": true}}',
    '{"__proto__": {"jobId": "11111111-1111-4111-8111-111111111111"}}',
    '{"jobId": "11111111-1111-4111-8111-111111111111", "__proto__": {"polluted": true}}',
    '{"toString": "x"}',
    '[{"jobId": "11111111-1111-4111-8111-111111111111"}]',
  )
  .map((json) => JSON.parse(json) as unknown)

function inputsFor(known: string[]) {
  return fc
    .oneof(
      { weight: 6, arbitrary: objectsOf(known) },
      { weight: 2, arbitrary: anyValue },
      { weight: 1, arbitrary: prototypeAttacks },
    )
    .map((input) => {
      if (input instanceof Big) return TEN_MB
      if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype) return input
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(input))
        Object.defineProperty(out, k, { value: big(v), enumerable: true, writable: true, configurable: true })
      return out
    })
}

type Verdict = { valid: true } | { valid: false; fields: string[] }

/** The fields of `input`, or the verdict "input" for anything that is not a plain object. */
function plainFields(input: unknown): [string, unknown][] | null {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return null
  const proto: unknown = Object.getPrototypeOf(input)
  if (proto !== Object.prototype && proto !== null) return null
  return Object.keys(input).map((k) => [k, Object.getOwnPropertyDescriptor(input, k)!.value])
}

function verdict(input: unknown, known: Record<string, (value: unknown) => boolean>, required: string[] = []): Verdict {
  const entries = plainFields(input)
  if (!entries) return { valid: false, fields: ['input'] }
  const bad = new Set<string>()
  for (const [k, v] of entries) if (!Object.hasOwn(known, k) || !known[k]!(v)) bad.add(k)
  for (const k of required) if (!entries.some(([key]) => key === k)) bad.add(k)
  return bad.size ? { valid: false, fields: [...bad] } : { valid: true }
}

// The documented rules of ExportItem (lib/jobs/exports.ts): blank or whitespace-only text means "no filter".
const blank = (v: unknown) => v === undefined || (typeof v === 'string' && v.trim() === '')
const EXPORT_RULES: Record<string, (v: unknown) => boolean> = {
  nameContains: (v) =>
    blank(v) || (typeof v === 'string' && v.trim().length <= 100 && !v.includes('\u0000') && v.isWellFormed()),
  country: (v) => blank(v) || (typeof v === 'string' && /^[A-Za-z]{2}$/.test(v.trim())),
  minPopulation: (v) => {
    if (blank(v)) return true
    const n = typeof v === 'string' && /^[+-]?\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : v
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 10_000_000_000
  },
}
const UUID =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/i
const JOB_REF_RULES: Record<string, (v: unknown) => boolean> = { jobId: (v) => typeof v === 'string' && UUID.test(v) }
// The documented rules of listJobs' input (HistoryFilter in lib/server/history.ts, plus a page size).
const LIST_RULES: Record<string, (v: unknown) => boolean> = {
  queue: (v) => v === undefined || (typeof v === 'string' && /^[a-z][a-z0-9_-]{0,49}$/.test(v)),
  state: (v) => v === undefined || ['queued', 'active', 'completed', 'failed', 'cancelled'].includes(v as string),
  cursor: (v) => v === undefined || (typeof v === 'string' && v.length <= 200),
  limit: (v) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 100),
}

/** Checks one answer against the oracle: never INTERNAL, VALIDATION naming exactly the wrong fields. */
function checkAnswer(result: ActionResult<unknown>, expected: Verdict, validCodes: string[]): void {
  if (!expected.valid) {
    expect(result.ok, 'an invalid input was accepted').toBe(false)
    if (result.ok) return
    expect(result.error.code).toBe('VALIDATION')
    const fields = result.error.fields ?? {}
    expect(Object.keys(fields).sort()).toEqual([...expected.fields].sort())
    for (const messages of Object.values(fields)) {
      expect(messages.length).toBeGreaterThan(0)
      for (const m of messages) expect(typeof m).toBe('string')
    }
    return
  }
  if (!result.ok) expect(validCodes, JSON.stringify(result.error)).toContain(result.error.code)
}

const RUNS = 2_000

describe('bad input, property-based', () => {
  it(`startExport: ${RUNS} generated inputs, each invalid one answered VALIDATION naming its fields, no job from any of them`, async () => {
    session.cookie = await sessionOf(randomUUID())
    const before = await jobCount()
    let created = 0
    await fc.assert(
      fc.asyncProperty(inputsFor(Object.keys(EXPORT_RULES)), async (input) => {
        const expected = verdict(input, EXPORT_RULES)
        const result = await actions.startExport(input)
        checkAnswer(result, expected, ['LIMITED'])
        if (result.ok) created++
      }),
      { numRuns: RUNS },
    )
    // Every job created came from an accepted (valid) input.
    expect(await jobCount()).toBe(before + created)
    expect(created).toBeGreaterThan(0)
    await cancelEverything()
  })

  it.each(['jobStatus', 'cancelJob'] as const)(
    `%s: ${RUNS} generated inputs, VALIDATION naming jobId or the unknown fields, NOT_FOUND for unknown ids`,
    async (name) => {
      session.cookie = await sessionOf(randomUUID())
      const before = await jobCount()
      let notFound = 0
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            inputsFor(['jobId']),
            fc.uuid().map((jobId) => ({ jobId })),
          ),
          async (input) => {
            const expected = verdict(input, JOB_REF_RULES, ['jobId'])
            const result = await actions[name](input)
            checkAnswer(result, expected, ['NOT_FOUND'])
            if (expected.valid) {
              expect(result).toEqual(NOT_FOUND)
              notFound++
            }
          },
        ),
        { numRuns: RUNS },
      )
      expect(notFound).toBeGreaterThan(100)
      expect(await jobCount()).toBe(before)
    },
  )

  it(`listJobs: ${RUNS} generated inputs, only the documented filter fields accepted`, async () => {
    session.cookie = await sessionOf(randomUUID())
    const before = await jobCount()
    await fc.assert(
      fc.asyncProperty(inputsFor(Object.keys(LIST_RULES)), async (input) => {
        const expected = input === undefined ? { valid: true as const } : verdict(input, LIST_RULES)
        const result = await actions.listJobs(input)
        checkAnswer(result, expected, [])
        if (result.ok) expect(result.value.jobs).toEqual([])
      }),
      { numRuns: RUNS },
    )
    expect(await jobCount()).toBe(before)
  })

  it('answers 10 MB strings, as a value, a key or the whole input, with VALIDATION', async () => {
    session.cookie = await sessionOf(randomUUID())
    const before = await jobCount()
    const padded = ` ${TEN_MB} `
    for (const [call, input, fields] of [
      [actions.startExport, { nameContains: TEN_MB }, ['nameContains']],
      [
        actions.startExport,
        { country: padded, minPopulation: TEN_MB.replace(/a/g, '9') },
        ['country', 'minPopulation'],
      ],
      [actions.startExport, TEN_MB, ['input']],
      [actions.startExport, { [TEN_MB.slice(0, 1024 * 1024)]: 1 }, [TEN_MB.slice(0, 1024 * 1024)]],
      [actions.jobStatus, { jobId: TEN_MB }, ['jobId']],
      [actions.cancelJob, { jobId: padded }, ['jobId']],
      [actions.listJobs, { filter: TEN_MB }, ['filter']],
    ] as [(input: unknown) => Promise<ActionResult<unknown>>, unknown, string[]][]) {
      const started = Date.now()
      const result = await call(input)
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expect(result.error.code).toBe('VALIDATION')
        expect(Object.keys(result.error.fields ?? {}).sort()).toEqual([...fields].sort())
      }
      expect(Date.now() - started).toBeLessThan(5_000)
    }
    expect(await jobCount()).toBe(before)
  })

  it('leaves Object.prototype untouched after all of that', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).country).toBeUndefined()
    expect(({} as Record<string, unknown>).jobId).toBeUndefined()
  })
})

describe('flood limit', () => {
  it(`twenty exports started at once by one viewer: ${LIMIT} start, the rest answer LIMITED, and another viewer's export still starts`, async () => {
    await cancelEverything()
    const flooder = await sessionOf(randomUUID())
    const other = await sessionOf(randomUUID())
    session.cookie = flooder
    const results = await Promise.all(Array.from({ length: 20 }, () => actions.startExport({})))
    const started = results.filter((r) => r.ok)
    expect(started).toHaveLength(LIMIT)
    for (const r of results.filter((r) => !r.ok)) {
      expect(r).toEqual({
        ok: false,
        error: {
          code: 'LIMITED',
          message: `You already have ${LIMIT} exports queued or running. Wait for one to finish or cancel one.`,
        },
      })
    }
    const ids = started.map((r) => expectOk(r).job.id)
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM app.jobs WHERE id = ANY($1::uuid[]) AND state IN ('queued', 'active')`,
      [ids],
    )
    expect(rows[0]!.n).toBe(LIMIT)

    session.cookie = other
    const theirs = expectOk(await actions.startExport({ country: 'IS' })).job

    // Once one of the flooder's exports settles, they may start one again (and only one).
    session.cookie = flooder
    expect(expectOk(await actions.cancelJob({ jobId: ids[0]! })).job.id).toBe(ids[0])
    await waitForJob(db.url, ids[0]!, 'cancelled')
    session.cookie = flooder
    const again = await Promise.all([actions.startExport({}), actions.startExport({})])
    expect(again.filter((r) => r.ok)).toHaveLength(1)
    expect(again.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(['LIMITED'])
    ids.push(...again.filter((r) => r.ok).map((r) => expectOk(r).job.id))

    // When the flooder cancels, the other viewer's export gets a worker and runs to the end.
    expect(expectOk(await actions.jobStatus({ jobId: ids[1]! })).job.state).not.toBe('cancelled')
    for (const jobId of ids) {
      session.cookie = flooder
      await actions.cancelJob({ jobId })
    }
    await waitForJob(db.url, theirs.id, 'completed')
  })

  it('holds across web processes: two instances of the enqueue module on two pools never start more than the limit together', async () => {
    const owner = randomUUID()
    vi.resetModules()
    const one = await import('@/lib/server/enqueue-limited')
    vi.resetModules()
    const two = await import('@/lib/server/enqueue-limited')
    // Separate module instances share no in-process state: only the database lock serialises them.
    expect(one.enqueueWithinLimit).not.toBe(two.enqueueWithinLimit)
    const { createPool } = await import('@/lib/server/db')
    const { stopProducer } = await import('@/lib/server/enqueue')
    const pools = [createPool(db.url, { max: 3 }), createPool(db.url, { max: 3 })] as const
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? one : two).enqueueWithinLimit(
            pools[i % 2]!,
            { queue: 'exports', ownerId: owner, payload: {} },
            LIMIT,
          ),
        ),
      )
      expect(results.filter((r) => r.kind === 'enqueued')).toHaveLength(LIMIT)
      expect(results.filter((r) => r.kind === 'limited')).toHaveLength(20 - LIMIT)
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1`,
        [owner],
      )
      expect(rows[0]!.n).toBe(LIMIT)
    } finally {
      await cancelEverything()
      for (const p of pools) {
        await stopProducer(p)
        await p.end()
      }
    }
  })
})
