/**
 * The CSV import end to end below the browser: the upload route (app/api/imports/route.ts) as a
 * browser calls it, the real worker running ImportQueue, the rejected-rows route, all on a real
 * PostgreSQL. Only `next/headers` is replaced, so each call carries the session the test chooses.
 */
import { randomUUID } from 'node:crypto'
import { parse } from 'csv-parse/sync'
import pg from 'pg'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { ImportResult, IMPORTS_QUEUE } from '@/lib/jobs/imports'
import { JobSnapshot } from '@/lib/jobs/job'
import type { ActionResult } from '@/lib/jobs/result'
import type { Queryable } from '@/lib/server/db'
import { setupTestDatabase, setupTestWorker, setupWebTier, waitForJob } from '@/test/kit'
// Imported with the kit, before vi.resetModules(): the worker and the queue must share one
// queue-service module (its AsyncLocalStorage is how handleItem finds its job).
import { ImportQueue } from './import-queue'

/** The cookie `cookies()` answers with (see the mock below). */
const session = vi.hoisted(() => ({ cookie: undefined as string | undefined }))

vi.mock('next/headers', async () => (await import('@/test/session-cookie')).sessionHeaders(session))

const SECRET = 'imports-test-secret-imports-test-secret-imports'
const MAX_BYTES = 12 * 1024 * 1024
const HEADER = 'id,name,country,admin_code,population,latitude,longitude'
const BOM = '\uFEFF'

type UploadRoute = typeof import('@/app/api/imports/route')
type RejectedRoute = typeof import('@/app/imports/[jobId]/rejected/route')
let uploadRoute: UploadRoute
let rejectedRoute: RejectedRoute
let signSession: (secret: string, viewerId: string) => Promise<string>

const db = setupTestDatabase()
setupWebTier(db, {
  SESSION_SECRET: SECRET,
  IMPORT_MAX_BYTES: String(MAX_BYTES),
  IMPORT_LIMIT_PER_VIEWER: '3',
  // Slow enough that an import of every city (135,233 rows) runs for seconds and can be
  // cancelled mid-way; the small files of the other tests still take a fraction of a second.
  IMPORT_ROWS_PER_SECOND: '20000',
})

beforeAll(async () => {
  uploadRoute = await import('@/app/api/imports/route')
  rejectedRoute = await import('@/app/imports/[jobId]/rejected/route')
  signSession = (await import('@/lib/server/tokens')).signSessionToken
})

setupTestWorker(db, [ImportQueue], { timing: { progressWriteMs: 50 }, stopGraceMs: 2_000 })

/** A new viewer: their id and signed session cookie. */
async function newViewer(): Promise<{ id: string; cookie: string }> {
  const id = randomUUID()
  return { id, cookie: await signSession(SECRET, id) }
}

/** POSTs `body` to the upload route as `viewer`, as the import form does. */
async function upload(
  viewer: { cookie: string },
  body: string | Uint8Array | ReadableStream<Uint8Array>,
  fileName = 'cities.csv',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: ActionResult<{ job: JobSnapshot }> }> {
  session.cookie = viewer.cookie
  const request = new Request('http://localhost/api/imports', {
    method: 'POST',
    body,
    headers: { 'x-file-name': encodeURIComponent(fileName), ...headers },
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit)
  const response = await uploadRoute.POST(request)
  return { status: response.status, body: (await response.json()) as ActionResult<{ job: JobSnapshot }> }
}

/** Uploads `csv` as `viewer` and waits for the import to settle. */
async function importFile(viewer: { cookie: string }, csv: string | Uint8Array, fileName?: string) {
  const answer = await upload(viewer, csv, fileName)
  if (!answer.body.ok) throw new Error(`upload refused: ${JSON.stringify(answer.body.error)}`)
  expect(answer.status).toBe(201)
  const done = await waitForJob(db.url, answer.body.value.job.id, ['completed', 'failed', 'cancelled'])
  return done
}

/** GETs the rejected-rows CSV of `jobId` as `viewer`. */
async function downloadRejected(viewer: { cookie: string }, jobId: string): Promise<Response> {
  session.cookie = viewer.cookie
  return rejectedRoute.GET(new Request(`http://localhost/imports/${jobId}/rejected`), {
    params: Promise.resolve({ jobId }),
  })
}

interface CityRow {
  id: number
  name: string
  country: string
  admin_code: string | null
  population: number
  latitude: number
  longitude: number
}

async function importedRows(jobId: string): Promise<(CityRow & { row_number: number })[]> {
  const { rows } = await db.pool.query<CityRow & { row_number: number }>(
    `SELECT row_number, id, name, country, admin_code, population, latitude, longitude
       FROM app.imported_cities WHERE job_id = $1 ORDER BY row_number`,
    [jobId],
  )
  return rows
}

async function count(text: string, values: unknown[] = []): Promise<number> {
  return (await db.pool.query<{ n: number }>(text, values)).rows[0]!.n
}

/** A cities export of `where`, written by the export's own CSV writer. */
async function exportOf(where: string): Promise<{ csv: string; rows: CityRow[] }> {
  const { csvStringifier } = await import('@/lib/server/csv')
  const { rows } = await db.pool.query<CityRow>(
    `SELECT id, name, country, admin_code, population, latitude, longitude FROM app.cities ${where} ORDER BY id`,
  )
  const stringifier = csvStringifier(['id', 'name', 'country', 'admin_code', 'population', 'latitude', 'longitude'])
  const chunks: Buffer[] = []
  stringifier.on('data', (chunk: Buffer) => chunks.push(chunk))
  const ended = new Promise((resolve) => stringifier.on('end', resolve))
  for (const row of rows) stringifier.write(row)
  stringifier.end()
  await ended
  return { csv: Buffer.concat(chunks).toString('utf8'), rows }
}

/**
 * Resolves once job `jobId` satisfies `predicate` (LISTEN on the job-change channel, then read
 * the row, as test/kit's waitForJob does for states).
 */
async function waitForJobWhere(jobId: string, predicate: (job: JobSnapshot) => boolean): Promise<JobSnapshot> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    return await new Promise<JobSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${jobId}: condition not met within 30 s`)), 30_000)
      const read = async () => {
        const { rows } = await client.query<{ s: unknown }>(
          'SELECT app.job_snapshot(j) AS s FROM app.jobs j WHERE id = $1',
          [jobId],
        )
        const job = rows[0] ? JobSnapshot.parse(rows[0].s) : null
        if (job && predicate(job)) {
          clearTimeout(timer)
          resolve(job)
        }
      }
      client.on('notification', (n) => {
        if ((JSON.parse(n.payload ?? '{}') as { id?: string }).id === jobId) read().catch(reject)
      })
      client.query(`LISTEN ${JOB_CHANGED_CHANNEL}`).then(read).catch(reject)
    })
  } finally {
    await client.end()
  }
}

/**
 * A lazily generated CSV body: the header, then rows of about 60 bytes, `chunkBytes` at a time,
 * without end unless `totalBytes` is given. `pulled` counts the bytes handed to the reader.
 */
function generatedBody(chunkBytes: number, totalBytes = Infinity) {
  const state = { pulled: 0 }
  let next = 1
  let headerSent = false
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled >= totalBytes) return controller.close()
        let text = headerSent ? '' : `${HEADER}\r\n`
        headerSent = true
        while (text.length < chunkBytes) text += `${next},City ${next++},BR,27,${next * 10},-23.5,-46.6\r\n`
        const bytes = new TextEncoder().encode(text).subarray(0, Math.min(chunkBytes, totalBytes - state.pulled))
        state.pulled += bytes.byteLength
        controller.enqueue(bytes)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, state }
}

describe('importing a file', () => {
  it('imports every row of a cities export, exactly as exported, and says how many', async () => {
    const viewer = await newViewer()
    const { csv, rows } = await exportOf(`WHERE country = 'PT'`)
    expect(rows.length).toBeGreaterThan(100)
    expect(csv.startsWith(BOM)).toBe(true)
    const done = await importFile(viewer, csv, 'cities-pt.csv')
    expect(done.state).toBe('completed')
    const result = ImportResult.parse(done.result)
    expect(result).toEqual({
      fileName: 'cities-pt.csv',
      imported: rows.length,
      rejected: 0,
      rowsUrl: `/imports/${done.id}`,
      rejectedUrl: null,
    })
    const imported = await importedRows(done.id)
    expect(imported.map((r) => ({ ...r, row_number: undefined }))).toEqual(
      rows.map((r) => ({ ...r, row_number: undefined })),
    )
    // The header is row 1: data rows are 2, 3, ...
    expect(imported.map((r) => r.row_number)).toEqual(rows.map((_, i) => i + 2))
    expect(done.progress?.message).toBe(`Done: ${rows.length.toLocaleString('en-US')} imported, 0 rejected.`)
    // Nothing is left behind: no staged rows, no upload.
    expect(await count('SELECT count(*)::int AS n FROM app.import_staged_cities WHERE job_id = $1', [done.id])).toBe(0)
    expect(await count('SELECT count(*)::int AS n FROM app.uploads WHERE owner_id = $1', [viewer.id])).toBe(0)
    expect(await downloadRejected(viewer, done.id).then((r) => r.status)).toBe(404)
  })

  it('reads UTF-8 with or without a BOM, CRLF or LF, and RFC 4180 quoting (commas, line breaks and quotes in fields)', async () => {
    const viewer = await newViewer()
    const rows = [
      ['1', '"Foo, ""the"" Bar"', 'BR', '27', '100', '-23.5', '-46.6'],
      ['2', '"Line one\nline two"', 'br', '', '0', '0', '180'],
      ['3', 'São Paulo', 'BR', '"S,P"', '12325232', '-23.5475', '-46.63611'],
      ['4', `"'=SUM(A1)"`, 'US', '""', '5', '1e1', '-0.5'],
    ]
    const expected = [
      {
        row_number: 2,
        id: 1,
        name: 'Foo, "the" Bar',
        country: 'BR',
        admin_code: '27',
        population: 100,
        latitude: -23.5,
        longitude: -46.6,
      },
      {
        row_number: 3,
        id: 2,
        name: 'Line one\nline two',
        country: 'BR',
        admin_code: null,
        population: 0,
        latitude: 0,
        longitude: 180,
      },
      {
        row_number: 4,
        id: 3,
        name: 'São Paulo',
        country: 'BR',
        admin_code: 'S,P',
        population: 12325232,
        latitude: -23.5475,
        longitude: -46.63611,
      },
      // The export's formula guard (a leading quote) is taken off again.
      {
        row_number: 5,
        id: 4,
        name: '=SUM(A1)',
        country: 'US',
        admin_code: null,
        population: 5,
        latitude: 10,
        longitude: -0.5,
      },
    ]
    for (const bom of ['', BOM]) {
      for (const eol of ['\r\n', '\n']) {
        const csv = bom + [HEADER, ...rows.map((r) => r.join(','))].join(eol) + eol
        const done = await importFile(viewer, csv)
        expect(done.state, `bom=${bom !== ''} eol=${JSON.stringify(eol)}`).toBe('completed')
        expect(ImportResult.parse(done.result)).toMatchObject({ imported: 4, rejected: 0 })
        // A quoted line break inside a field stays as written (LF here, whatever the record delimiter).
        expect(await importedRows(done.id)).toEqual(expected)
      }
    }
  })

  it('accepts the header columns in any order and in any case, and a last row without a line break', async () => {
    const viewer = await newViewer()
    const csv =
      'Name,ID,country,latitude,longitude,population,admin_code\r\nReykjavík,3413829,IS,64.13548,-21.89541,118918,39'
    const done = await importFile(viewer, csv)
    expect(ImportResult.parse(done.result)).toMatchObject({ imported: 1, rejected: 0 })
    expect(await importedRows(done.id)).toEqual([
      {
        row_number: 2,
        id: 3413829,
        name: 'Reykjavík',
        country: 'IS',
        admin_code: '39',
        population: 118918,
        latitude: 64.13548,
        longitude: -21.89541,
      },
    ])
  })

  it('rejects each bad row with its row number and reason, imports the rest, and the rejected rows download parses back', async () => {
    const viewer = await newViewer()
    const lines = [
      HEADER,
      '1,Good One,BR,27,100,-23.5,-46.6', // row 2
      'x,No Id,BR,27,100,-23.5,-46.6', // row 3
      '2,Bad Country,Brazil,27,100,-23.5,-46.6', // row 4
      '3,Too Few,BR,27,100', // row 5
      '1,Same Id Again,BR,27,100,-23.5,-46.6', // row 6
      '4,,BR,27,-5,91,-46.6', // row 7
      '5,"=cmd|\' /C calc\'!A0",BR,27,1,2,3', // row 8: valid, a formula-looking name
      '6,Good Two,IS,,1,2,3', // row 9
      '7,=1+2,BR,27,many,1,2', // row 10
    ]
    const done = await importFile(viewer, lines.join('\r\n') + '\r\n')
    expect(done.state).toBe('completed')
    const result = ImportResult.parse(done.result)
    expect(result).toMatchObject({ imported: 3, rejected: 6, rejectedUrl: `/imports/${done.id}/rejected` })
    expect((await importedRows(done.id)).map((r) => [r.row_number, r.name])).toEqual([
      [2, 'Good One'],
      [8, "=cmd|' /C calc'!A0"],
      [9, 'Good Two'],
    ])

    const response = await downloadRejected(viewer, done.id)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(response.headers.get('content-disposition')).toContain('rejected-cities.csv')
    const bytes = Buffer.from(await response.arrayBuffer())
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const text = bytes.toString('utf8')
    expect(text).toContain('\r\n')
    const back = parse(text, { bom: true, columns: true }) as Record<string, string>[]
    expect(back.map((r) => [r.row, r.reason])).toEqual([
      ['3', 'id: Must be a whole number.'],
      ['4', 'country: Use a two-letter country code, like BR.'],
      ['5', 'Expected 7 fields, found 5.'],
      ['6', 'id: 1 appears on an earlier row.'],
      ['7', 'name: Must not be empty. population: Must be 0 or more. latitude: Must be between -90 and 90.'],
      ['10', 'population: Must be a whole number.'],
    ])
    // The row's cells come back under the file's header, as they were read.
    expect(back[1]).toMatchObject({ id: '2', name: 'Bad Country', country: 'Brazil', longitude: '-46.6' })
    expect(back[2]).toMatchObject({ id: '3', name: 'Too Few', population: '100', latitude: '', longitude: '' })
    // Text that could start a formula is made inert, numbers are not touched.
    expect(back[4]).toMatchObject({ name: '', population: '-5', latitude: '91' })
    expect(text).toContain(',-5,91,')
    expect(back[5]).toMatchObject({ id: '7', name: "'=1+2" })
  })

  it('fails the job with the row where the file stops being valid CSV, and imports nothing of it', async () => {
    const viewer = await newViewer()
    const csv = [HEADER, '1,Fine,BR,27,100,1,2', '2,"Broken"quote,BR,27,100,1,2', '3,After,BR,27,100,1,2'].join('\n')
    const done = await importFile(viewer, csv)
    expect(done.state).toBe('failed')
    expect(done.error?.message).toMatch(/^The file is not valid CSV at row 3: .*Nothing was imported\.$/)
    expect(await importedRows(done.id)).toEqual([])
    expect(await count('SELECT count(*)::int AS n FROM app.import_staged_cities WHERE job_id = $1', [done.id])).toBe(0)
  })
})

describe('cancelling', () => {
  it('cancelling mid-import leaves the viewer’s imported rows exactly as they were: nothing staged is published', async () => {
    const viewer = await newViewer()
    const earlier = await importFile(viewer, `${HEADER}\n1,Kept,BR,27,100,1,2\n`)
    expect(earlier.state).toBe('completed')
    const before = await db.pool.query(
      'SELECT * FROM app.imported_cities WHERE owner_id = $1 ORDER BY job_id, row_number',
      [viewer.id],
    )

    const { csv } = await exportOf('')
    const answer = await upload(viewer, csv, 'all-cities.csv')
    if (!answer.body.ok) throw new Error(JSON.stringify(answer.body.error))
    const jobId = answer.body.value.job.id
    // Some batches are staged, well before the end of the file.
    const running = await waitForJobWhere(jobId, (j) => j.state === 'active' && (j.progress?.current ?? 0) > 0)
    expect(running.progress!.current).toBeLessThan(running.progress!.total)
    const staged = await count('SELECT count(*)::int AS n FROM app.import_staged_cities WHERE job_id = $1', [jobId])
    expect(staged).toBeGreaterThan(0)

    const { requestCancel } = await import('@/lib/server/job-store')
    expect((await requestCancel(db.pool, jobId, viewer.id)).kind).toBe('cancelling')
    const done = await waitForJob(db.url, jobId, ['cancelled', 'completed', 'failed'])
    expect(done.state).toBe('cancelled')

    const after = await db.pool.query(
      'SELECT * FROM app.imported_cities WHERE owner_id = $1 ORDER BY job_id, row_number',
      [viewer.id],
    )
    expect(after.rows).toEqual(before.rows)
    expect(await count('SELECT count(*)::int AS n FROM app.import_staged_cities WHERE job_id = $1', [jobId])).toBe(0)
    expect(await count('SELECT count(*)::int AS n FROM app.import_rejections WHERE job_id = $1', [jobId])).toBe(0)
    expect(await count('SELECT count(*)::int AS n FROM app.uploads WHERE owner_id = $1', [viewer.id])).toBe(0)
    expect(await downloadRejected(viewer, jobId).then((r) => r.status)).toBe(404)
  })
})

describe('the upload', () => {
  async function jobsOf(viewerId: string): Promise<number> {
    return count('SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1', [viewerId])
  }

  it('an empty file, a file that is not CSV, or one without the cities header is a field error and creates no job', async () => {
    const viewer = await newViewer()
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
    const cases: [string, string | Uint8Array, string][] = [
      ['an empty file', '', 'The file is empty.'],
      ['only a BOM and blank lines', `${BOM}\r\n\r\n`, 'The file is empty.'],
      ['a PNG image', png, 'This is not a CSV file: it is not UTF-8 text.'],
      ['Latin-1 text', new Uint8Array([0x69, 0x64, 0x2c, 0xe9, 0x0a]), 'This is not a CSV file: it is not UTF-8 text.'],
      [
        'another CSV',
        'email,first_name\r\nada@example.com,Ada\r\n',
        'The first row must be the header id,name,country,admin_code,population,latitude,longitude (missing id, name, country, admin_code, population, latitude, longitude; unexpected email, first_name).',
      ],
      [
        'a header missing a column',
        'id,name,country,admin_code,population,latitude\n1,A,BR,,1,2\n',
        'The first row must be the header id,name,country,admin_code,population,latitude,longitude (missing longitude).',
      ],
      ['a header and no rows', `${BOM}${HEADER}\r\n`, 'The file has a header but no rows.'],
      [
        'one line of 70 KB',
        'x'.repeat(70 * 1024),
        'This is not a cities CSV file: its first line is longer than 64 KB.',
      ],
    ]
    for (const [what, body, message] of cases) {
      const answer = await upload(viewer, body)
      expect(answer, what).toEqual({
        status: 400,
        body: {
          ok: false,
          error: { code: 'VALIDATION', message: 'The file needs attention.', fields: { file: [message] } },
        },
      })
    }
    expect(await jobsOf(viewer.id)).toBe(0)
    expect(await count('SELECT count(*)::int AS n FROM app.uploads WHERE owner_id = $1', [viewer.id])).toBe(0)
  })

  it('a file larger than the limit is refused as a field error after reading no more than the limit, and nothing is kept', async () => {
    const viewer = await newViewer()
    const chunk = 64 * 1024
    const { stream, state } = generatedBody(chunk)
    const answer = await upload(viewer, stream)
    expect(answer).toEqual({
      status: 413,
      body: {
        ok: false,
        error: {
          code: 'VALIDATION',
          message: 'The file needs attention.',
          fields: { file: ['The file is larger than 12 MB, the most an import accepts.'] },
        },
      },
    })
    // The chunk that crossed the limit, plus at most one the request body read ahead.
    expect(state.pulled).toBeGreaterThan(MAX_BYTES)
    expect(state.pulled).toBeLessThanOrEqual(MAX_BYTES + 2 * chunk)
    expect(await jobsOf(viewer.id)).toBe(0)
    expect(await count('SELECT count(*)::int AS n FROM app.uploads WHERE owner_id = $1', [viewer.id])).toBe(0)

    // A declared Content-Length over the limit is refused before anything is read.
    const declared = generatedBody(chunk)
    const refused = await upload(viewer, declared.stream, 'big.csv', { 'content-length': String(MAX_BYTES + 1) })
    expect(refused.status).toBe(413)
    expect(declared.state.pulled).toBe(0)
  })

  it('streams: every stored part is written before more than two parts of the file have been read', async () => {
    const { receiveUpload } = await import('@/lib/server/uploads')
    const { PART_BYTES } = await import('@/lib/server/file-store')
    const owner = randomUUID()
    const chunk = 64 * 1024
    const total = 10 * PART_BYTES
    const { stream, state } = generatedBody(chunk, total)
    // Records, for each part written, how much of the file had been read by then.
    const readWhenStored: number[] = []
    const recording: Queryable = {
      query: (text, values) => {
        if (text.includes('app.upload_parts')) readWhenStored.push(state.pulled)
        return db.pool.query(text, values)
      },
    }
    const outcome = await receiveUpload(recording, stream, { ownerId: owner, fileName: 'big.csv', maxBytes: 4 * total })
    expect(outcome.kind).toBe('stored')
    if (outcome.kind !== 'stored') return
    expect(outcome.upload.bytes).toBe(total)
    expect(readWhenStored.length).toBeGreaterThanOrEqual(9)
    // What the web tier holds at any time: the part being filled plus a chunk, never the file.
    readWhenStored.forEach((read, part) =>
      expect(read, `part ${part}`).toBeLessThanOrEqual((part + 1) * PART_BYTES + 2 * chunk),
    )
    const stored = await db.pool.query<{ n: number; bytes: number }>(
      'SELECT count(*)::int AS n, sum(length(data))::int AS bytes FROM app.upload_parts WHERE upload_id = $1',
      [outcome.upload.id],
    )
    expect(stored.rows[0]).toEqual({ n: readWhenStored.length, bytes: total })
    await db.pool.query('DELETE FROM app.uploads WHERE id = $1', [outcome.upload.id])
  })

  it('a viewer with as many imports running as the limit allows gets LIMITED, and no upload is kept', async () => {
    const viewer = await newViewer()
    const { csv } = await exportOf('')
    const started: string[] = []
    for (let i = 0; i < 3; i++) {
      const answer = await upload(viewer, csv, `all-${i}.csv`)
      if (!answer.body.ok) throw new Error(JSON.stringify(answer.body.error))
      started.push(answer.body.value.job.id)
    }
    const refused = await upload(viewer, `${HEADER}\n1,A,BR,,1,2,3\n`)
    expect(refused.status).toBe(429)
    expect(refused.body).toMatchObject({ ok: false, error: { code: 'LIMITED' } })
    // The three accepted uploads, and nothing of the refused one.
    expect(await count('SELECT count(*)::int AS n FROM app.uploads WHERE owner_id = $1', [viewer.id])).toBe(3)
    const { requestCancel } = await import('@/lib/server/job-store')
    for (const id of started) await requestCancel(db.pool, id, viewer.id)
    for (const id of started) await waitForJob(db.url, id, ['cancelled', 'completed', 'failed'])
  })
})

describe('ownership', () => {
  it('another viewer sees none of my import: not its job, not its rows, not its rejected rows', async () => {
    const me = await newViewer()
    const other = await newViewer()
    const done = await importFile(me, `${HEADER}\n1,Mine,BR,,1,2,3\nbad,Row,BR,,1,2,3\n`)
    expect(ImportResult.parse(done.result)).toMatchObject({ imported: 1, rejected: 1 })

    expect((await downloadRejected(other, done.id)).status).toBe(404)
    expect((await downloadRejected({ cookie: 'not-a-session' }, done.id)).status).toBe(404)
    expect((await downloadRejected(me, done.id)).status).toBe(200)

    const { findJobForOwner } = await import('@/lib/server/job-store')
    expect(await findJobForOwner(db.pool, done.id, other.id)).toBeNull()
    expect(await count('SELECT count(*)::int AS n FROM app.imported_cities WHERE owner_id = $1', [other.id])).toBe(0)

    // Without a session, nothing is read and nothing is stored.
    const anonymous = await upload({ cookie: 'not-a-session' }, `${HEADER}\n1,A,BR,,1,2,3\n`)
    expect(anonymous.status).toBe(404)
    expect(anonymous.body).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
  })

  it('the worker refuses an upload that is not the job owner’s', async () => {
    const me = await newViewer()
    const other = await newViewer()
    const { receiveUpload } = await import('@/lib/server/uploads')
    const body = new Response(`${HEADER}\n1,A,BR,,1,2,3\n`).body
    const stored = await receiveUpload(db.pool, body, {
      ownerId: other.id,
      fileName: 'theirs.csv',
      maxBytes: MAX_BYTES,
    })
    if (stored.kind !== 'stored') throw new Error(stored.kind)
    const { enqueueJob } = await import('@/lib/server/enqueue')
    const job = await enqueueJob(db.pool, {
      queue: IMPORTS_QUEUE,
      ownerId: me.id,
      payload: { uploadId: stored.upload.id, fileName: 'theirs.csv', bytes: stored.upload.bytes },
    })
    const done = await waitForJob(db.url, job.id, ['completed', 'failed'])
    expect(done.state).toBe('failed')
    expect(done.error?.message).toBe('The uploaded file is no longer available. Upload it again.')
    expect(await count('SELECT count(*)::int AS n FROM app.imported_cities WHERE job_id = $1', [job.id])).toBe(0)
    const { stopProducer } = await import('@/lib/server/enqueue')
    await stopProducer(db.pool)
  })
})
