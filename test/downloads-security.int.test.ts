/**
 * GET /downloads/:jobId as an attacker and as time passes: the route handler runs for real
 * (app/downloads/[jobId]/route.ts) against a real database and a real export; only
 * `next/headers` is replaced, so each request carries the session cookie the test chooses.
 * URL decoding and routing of hostile paths are covered against the production build in
 * e2e/security.spec.ts.
 */
import { randomUUID } from 'node:crypto'
import { parse } from 'csv-parse/sync'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { setupTestDatabase, setupTestWorker, setupWebTier, waitForJob } from '@/test/kit'
import { createLogger } from '@/workers/logger'

const session = vi.hoisted(() => ({ cookie: undefined as string | undefined }))
vi.mock('next/headers', async () => (await import('@/test/session-cookie')).sessionHeaders(session))

const SECRET = 'downloads-security-secret-downloads-security'

let GET: typeof import('@/app/downloads/[jobId]/route').GET
let actions: typeof import('@/lib/actions/jobs')
let tokens: typeof import('@/lib/server/tokens')
let attachmentDisposition: typeof import('@/lib/server/content-disposition').attachmentDisposition

const db = setupTestDatabase({ poolMax: 2 })
setupWebTier(db, { SESSION_SECRET: SECRET, EXPORT_FILE_TTL_HOURS: undefined, EXPORT_ROWS_PER_SECOND: undefined })

beforeAll(async () => {
  ;({ GET } = await import('@/app/downloads/[jobId]/route'))
  actions = await import('@/lib/actions/jobs')
  tokens = await import('@/lib/server/tokens')
  ;({ attachmentDisposition } = await import('@/lib/server/content-disposition'))
})

setupTestWorker(db, async () => [(await import('@/workers/queues/export-queue')).ExportQueue as never], {
  secret: SECRET,
  log: { ...createLogger('downloads-worker'), info: () => undefined },
  stopGraceMs: 2_000,
})

/**
 * Starts the route afresh with EXPORT_FILE_TTL_HOURS set to `hours` (undefined: unset), as a web
 * process restarted with that setting would: the web tier reads its environment once.
 */
async function restartRouteWithTtl(hours: string | undefined) {
  vi.stubEnv('EXPORT_FILE_TTL_HOURS', hours)
  vi.resetModules()
  ;({ GET } = await import('@/app/downloads/[jobId]/route'))
}

let ttlChanged = false
afterEach(async () => {
  if (ttlChanged) await restartRouteWithTtl(undefined)
  ttlChanged = false
})

/** Requests /downloads/:jobId with `cookie` as the session cookie (undefined: none). */
async function download(jobId: string, cookie: string | undefined) {
  session.cookie = cookie
  // The handler reads the id from the (already decoded) route params, as Next.js passes it.
  const response = await GET(new Request('http://127.0.0.1/downloads/x'), { params: Promise.resolve({ jobId }) })
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) }
}

/** A completed export of `country` owned by a new viewer: its id, the owner's cookie and its result. */
async function completedExport(country: string) {
  const owner = randomUUID()
  const cookie = await tokens.signSessionToken(SECRET, owner)
  session.cookie = cookie
  const started = await actions.startExport({ country })
  if (!started.ok) throw new Error(JSON.stringify(started.error))
  const job = await waitForJob(db.url, started.value.job.id, 'completed')
  return { id: job.id, owner, cookie, result: job.result as { fileName: string; rows: number; bytes: number } }
}

async function partsOf(jobId: string): Promise<number> {
  return (
    await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.job_file_parts WHERE job_id = $1', [jobId])
  ).rows[0]!.n
}

async function settledHoursAgo(jobId: string, hours: number): Promise<void> {
  await db.pool.query(`UPDATE app.jobs SET settled_at = now() - make_interval(secs => $2) WHERE id = $1`, [
    jobId,
    hours * 3600,
  ])
}

describe('/downloads/:jobId', () => {
  it('gives the owner the file, and anyone else the same 404 as for a job that does not exist', async () => {
    const job = await completedExport('IS')
    const mine = await download(job.id, job.cookie)
    expect(mine.status).toBe(200)
    expect(mine.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(mine.headers.get('content-disposition')).toBe(attachmentDisposition(job.result.fileName))
    expect(mine.headers.get('cache-control')).toBe('private, no-store')
    expect(mine.headers.get('x-content-type-options')).toBe('nosniff')
    expect(mine.body.length).toBe(job.result.bytes)
    expect(parse(mine.body, { bom: true, columns: true })).toHaveLength(job.result.rows)

    const unknown = await download(randomUUID(), job.cookie)
    expect(unknown.status).toBe(404)
    const now = Math.floor(Date.now() / 1000)
    for (const [what, cookie] of [
      ['another viewer', await tokens.signSessionToken(SECRET, randomUUID())],
      ['no session', undefined],
      ['a forged session (another secret)', await tokens.signSessionToken('f'.repeat(40), job.owner)],
      ['a realtime token of the owner', await tokens.signRealtimeToken(SECRET, job.owner)],
      ['the owner id as cookie', job.owner],
      [
        'an unsigned token of the owner',
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: job.owner, iss: 'next-background-jobs', aud: 'session', exp: now + 60 })).toString('base64url')}.`,
      ],
    ] as [string, string | undefined][]) {
      const theirs = await download(job.id, cookie)
      expect({ what, status: theirs.status, body: theirs.body.toString() }).toEqual({
        what,
        status: 404,
        body: unknown.body.toString(),
      })
    }
    expect(await partsOf(job.id)).toBeGreaterThan(0)
  })

  it.each<[string, string]>([
    ['a traversal', '../../etc/passwd'],
    ['an encoded traversal, once decoded by the router', '..%2F..%2Fetc%2Fpasswd'],
    ['an encoded-dots traversal', '%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
    ['a double-encoded traversal', '%252e%252e%252f'],
    ['a Windows traversal', '..\\..\\windows\\win.ini'],
    ['an absolute path', '/etc/passwd'],
    ['a dot', '.'],
    ['two dots', '..'],
    ['nothing', ''],
    ['a space', ' '],
    ['a NUL', '\u0000'],
    ['a UUID followed by NUL', '11111111-1111-4111-8111-111111111111\u0000'],
    ['SQL', "'; DELETE FROM app.jobs; --"],
    ['10,000 characters', 'a'.repeat(10_000)],
    ['a UUID followed by a path', '11111111-1111-4111-8111-111111111111/../x'],
    ['a UUID with a leading space', ' 11111111-1111-4111-8111-111111111111'],
    ['a UUID in braces', '{11111111-1111-4111-8111-111111111111}'],
    ['a UUID without dashes', '11111111111141118111111111111111'],
    ['a lone surrogate', '\uD800'],
  ])('answers an id that is %s with 400 and no file, even for a signed-in viewer', async (_, jobId) => {
    const answer = await download(jobId, await tokens.signSessionToken(SECRET, randomUUID()))
    expect(answer.status).toBe(400)
    expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(answer.body.toString()).toBe('Not a valid job id.')
  })

  it('expires after EXPORT_FILE_TTL_HOURS: the owner gets 410 Gone, the file is deleted, the job stays completed, others still get 404', async () => {
    const job = await completedExport('LU')
    await settledHoursAgo(job.id, 2)
    ttlChanged = true
    await restartRouteWithTtl('3')
    expect((await download(job.id, job.cookie)).status).toBe(200)

    await restartRouteWithTtl('1')
    // Someone else asking tells them nothing and deletes nothing.
    expect((await download(job.id, await tokens.signSessionToken(SECRET, randomUUID()))).status).toBe(404)
    expect(await partsOf(job.id)).toBeGreaterThan(0)

    const gone = await download(job.id, job.cookie)
    expect(gone.status).toBe(410)
    expect(gone.body.toString()).toBe('This download has expired. Start the export again.')
    expect(await partsOf(job.id)).toBe(0)
    const { rows } = await db.pool.query('SELECT state, result IS NOT NULL AS has_result FROM app.jobs WHERE id = $1', [
      job.id,
    ])
    expect(rows[0]).toEqual({ state: 'completed', has_result: true })
    expect((await download(job.id, job.cookie)).status).toBe(410)
    expect((await download(job.id, undefined)).status).toBe(404)
  })

  it('keeps a file 24 hours by default', async () => {
    const job = await completedExport('MT')
    await settledHoursAgo(job.id, 23.9)
    expect((await download(job.id, job.cookie)).status).toBe(200)
    await settledHoursAgo(job.id, 24.1)
    expect((await download(job.id, job.cookie)).status).toBe(410)
    expect(await partsOf(job.id)).toBe(0)
  })

  it.each(['queued', 'active', 'failed', 'cancelled'])(
    'has nothing to download for a %s export, even with a result and file parts stored',
    async (state) => {
      const owner = randomUUID()
      const id = randomUUID()
      const result = { fileName: 'x.csv', rows: 1, bytes: 3, downloadUrl: `/downloads/${id}` }
      // Parts are written by the attempt that owns the job (the schema's fence), then the job moves on.
      await db.pool.query(
        `INSERT INTO app.jobs (id, queue, owner_id, state, attempt, payload, result) VALUES ($1, 'exports', $2, 'active', 1, '{}', $3)`,
        [id, owner, JSON.stringify(result)],
      )
      await db.pool.query(`INSERT INTO app.job_file_parts (job_id, part, data, attempt) VALUES ($1, 0, 'a,b', 1)`, [id])
      await db.pool.query(`UPDATE app.jobs SET state = $2 WHERE id = $1`, [id, state])
      expect((await download(id, await tokens.signSessionToken(SECRET, owner))).status).toBe(404)
    },
  )
})
