import { parse } from 'csv-parse/sync'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { ExportResult, EXPORTS_QUEUE } from '@/lib/jobs/exports'
import { JobSnapshot } from '@/lib/jobs/job'
import { enqueueJob } from '@/lib/server/enqueue'
import { readFile } from '@/lib/server/file-store'
import { requestCancel } from '@/lib/server/job-store'
import { setupTestDatabase, setupTestWorker, waitForJob } from '@/test/kit'
import { ExportQueue } from './export-queue'

const BOM = Buffer.from([0xef, 0xbb, 0xbf])
const HEADER = ['id', 'name', 'country', 'admin_code', 'population', 'latitude', 'longitude']
const ALL_CITIES = 135_233

// COPY writes all cities in well under a second; at this cap (read when the worker starts) an
// all-cities export runs for about 1.4 s, so the cancel test below can catch one running.
// Registered first, so it runs before the worker starts.
beforeAll(() => {
  vi.stubEnv('EXPORT_ROWS_PER_SECOND', '100000')
})

afterAll(() => {
  vi.unstubAllEnvs()
})

const db = setupTestDatabase()
// Write progress to app.jobs often, so the cancel test can see a running export's progress
// well before an all-cities export (1-2 s) finishes. Everything else runs as in production.
setupTestWorker(db, [ExportQueue], { timing: { progressWriteMs: 50 } })
const owner = '22222222-2222-4222-8222-222222222222'

interface CityRow {
  id: number
  name: string
  country: string
  admin_code: string | null
  population: number
  latitude: number
  longitude: number
}

function exportCities(query: Record<string, unknown>) {
  return enqueueJob(db.pool, { queue: EXPORTS_QUEUE, ownerId: owner, payload: query })
}

/** The stored file of `jobId`, read straight from its parts, which must be numbered 0..n-1. */
async function storedFile(jobId: string): Promise<Buffer> {
  const { rows } = await db.pool.query<{ part: number; data: Buffer }>(
    'SELECT part, data FROM app.job_file_parts WHERE job_id = $1 ORDER BY part',
    [jobId],
  )
  expect(rows.map((r) => r.part)).toEqual(rows.map((_, i) => i))
  return Buffer.concat(rows.map((r) => r.data))
}

/** The rows SQL returns for a query, written independently of the export's own query builder. */
async function citiesWhere(sql: string, values: unknown[] = []): Promise<CityRow[]> {
  const { rows } = await db.pool.query<CityRow>(
    `SELECT id, name, country, admin_code, population, latitude, longitude FROM app.cities ${sql} ORDER BY id`,
    values,
  )
  return rows
}

/** Parses an export the way a spreadsheet import would (header row, BOM stripped) into typed rows. */
function parseExport(csv: Buffer): CityRow[] {
  const records = parse(csv, { bom: true, columns: true }) as Record<string, string>[]
  return records.map((r) => ({
    id: Number(r.id),
    name: r.name!,
    country: r.country!,
    // NULL is written as an empty field; no admin code in the data is an empty string.
    admin_code: r.admin_code === '' ? null : r.admin_code!,
    population: Number(r.population),
    latitude: Number(r.latitude),
    longitude: Number(r.longitude),
  }))
}

/** What a city looks like in an export: text that could start a formula gets a leading quote. */
function asExported(row: CityRow): CityRow {
  const inert = (s: string) => (/^ *[=+\-@\t\r]/.test(s) ? `'${s}` : s)
  return {
    ...row,
    name: inert(row.name),
    country: inert(row.country),
    admin_code: row.admin_code === null ? null : inert(row.admin_code),
  }
}

/** Compares large row sets without printing thousands of lines: first mismatch, or null. */
function firstDifference(actual: CityRow[], expected: CityRow[]) {
  if (actual.length !== expected.length) return { actualRows: actual.length, expectedRows: expected.length }
  const i = actual.findIndex((row, k) => JSON.stringify(row) !== JSON.stringify(asExported(expected[k]!)))
  return i === -1 ? null : { row: i, exported: actual[i], expected: asExported(expected[i]!) }
}

/**
 * Resolves with the job's snapshot once `predicate` holds for it (LISTEN on the job-change channel,
 * then read the row, as test/kit's waitForJob does for states).
 */
async function waitForJobWhere(
  jobId: string,
  predicate: (job: JobSnapshot) => boolean,
  timeoutMs = 30_000,
): Promise<JobSnapshot> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    return await new Promise<JobSnapshot>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`job ${jobId}: condition not met within ${timeoutMs} ms`)),
        timeoutMs,
      )
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

describe('ExportQueue', () => {
  it('exports a real query to a CSV that parses back to exactly the rows SQL returns', async () => {
    const job = await exportCities({ nameContains: 'san', country: 'BR', minPopulation: 5000 })
    const done = await waitForJob(db.url, job.id, ['completed', 'failed'])
    expect(done.state).toBe('completed')

    const expected = await citiesWhere(`WHERE strpos(lower(name), 'san') > 0 AND country = 'BR' AND population >= 5000`)
    expect(expected.length).toBeGreaterThan(50)
    const csv = await storedFile(job.id)
    expect(csv.subarray(0, 3)).toEqual(BOM)
    expect(
      csv
        .subarray(3)
        .toString('utf8')
        .startsWith(`${HEADER.join(',')}\r\n`),
    ).toBe(true)
    expect(firstDifference(parseExport(csv), expected)).toBeNull()
    expect(ExportResult.parse(done.result).rows).toBe(expected.length)
  })

  it('reports progress up to every row and a result that points at the stored file', async () => {
    const job = await exportCities({ country: 'de', minPopulation: '20000' })
    const done = await waitForJob(db.url, job.id, ['completed', 'failed'])
    const [{ n: rows } = { n: -1 }] = (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM app.cities WHERE country = 'DE' AND population >= 20000`,
      )
    ).rows
    const {
      rows: [stored],
    } = await db.pool.query<{ bytes: number }>(
      'SELECT coalesce(sum(octet_length(data)), 0)::int AS bytes FROM app.job_file_parts WHERE job_id = $1',
      [job.id],
    )

    expect(done.progress).toEqual({
      current: rows,
      total: rows,
      message: `Exported ${rows.toLocaleString('en-US')} rows.`,
    })
    expect(done.result).toEqual({
      fileName: `cities-${job.id.slice(0, 8)}.csv`,
      rows,
      bytes: stored!.bytes,
      downloadUrl: `/downloads/${job.id}`,
      expiresAt: expect.any(String),
    })
    // The link lasts EXPORT_FILE_TTL_HOURS (default 24) from completion.
    const expiresIn = Date.parse((done.result as { expiresAt: string }).expiresAt) - Date.parse(done.settledAt!)
    expect(Math.abs(expiresIn - 24 * 3_600_000)).toBeLessThan(60_000)
    expect(done.attempt).toBe(1)
    expect(done.error).toBeNull()
    expect(done.settledAt).not.toBeNull()
    // The download route streams the file with readFile: it must give back the same bytes.
    const served = Buffer.from(await new Response(readFile(db.pool, job.id)).arrayBuffer())
    expect(served.equals(await storedFile(job.id))).toBe(true)
  })

  it('keeps non-ASCII names intact and matches them case-insensitively', async () => {
    const lower = await exportCities({ country: 'BR', nameContains: 'são' })
    const upper = await exportCities({ country: 'BR', nameContains: 'SÃO' })
    await Promise.all([waitForJob(db.url, lower.id, 'completed'), waitForJob(db.url, upper.id, 'completed')])

    const expected = await citiesWhere(`WHERE name ILIKE '%são%' AND country = 'BR'`)
    expect(expected.map((c) => c.name)).toContain('São Paulo')
    const csv = await storedFile(lower.id)
    expect(firstDifference(parseExport(csv), expected)).toBeNull()
    for (const { name } of expected) expect(csv.includes(Buffer.from(name, 'utf8')), name).toBe(true)
    // The same query typed in capitals exports the same file, byte for byte.
    expect((await storedFile(upper.id)).equals(csv)).toBe(true)
  })

  it('quotes real names that contain commas and quotes, and still parses back exactly', async () => {
    const job = await exportCities({ nameContains: ',' })
    const withQuote = await exportCities({ nameContains: '"' })
    await Promise.all([waitForJob(db.url, job.id, 'completed'), waitForJob(db.url, withQuote.id, 'completed')])
    const commas = await citiesWhere(`WHERE strpos(name, ',') > 0`)
    const quotes = await citiesWhere(`WHERE strpos(name, '"') > 0`)
    expect(commas.length).toBeGreaterThan(0)
    expect(quotes.length).toBeGreaterThan(0)
    expect(firstDifference(parseExport(await storedFile(job.id)), commas)).toBeNull()
    expect(firstDifference(parseExport(await storedFile(withQuote.id)), quotes)).toBeNull()
  })

  it('exports all 135,233 cities for an empty form', async () => {
    const job = await exportCities({ nameContains: '', country: '', minPopulation: '' })
    const done = await waitForJob(db.url, job.id, ['completed', 'failed'])
    expect(done.state).toBe('completed')
    const csv = await storedFile(job.id)
    expect(csv.length).toBeGreaterThan(1024 * 1024) // several stored parts
    const exported = parseExport(csv)
    expect(exported.length).toBe(ALL_CITIES)
    expect(done.progress).toMatchObject({ current: ALL_CITIES, total: ALL_CITIES })
    expect(firstDifference(exported, await citiesWhere(''))).toBeNull()
  })

  it('exports a header-only CSV, not an error, when nothing matches', async () => {
    const job = await exportCities({ nameContains: 'zzzzqqq' })
    const done = await waitForJob(db.url, job.id, ['completed', 'failed'])
    expect(done.state).toBe('completed')
    const csv = await storedFile(job.id)
    expect(csv).toEqual(Buffer.concat([BOM, Buffer.from(`${HEADER.join(',')}\r\n`)]))
    expect(done.result).toMatchObject({ rows: 0, bytes: csv.length })
    expect(done.progress).toMatchObject({ current: 0, total: 0 })
  })

  it('fails a stored query the worker no longer accepts, with a safe message and no file', async () => {
    const job = await exportCities({ country: 'BRA' })
    const failed = await waitForJob(db.url, job.id, ['completed', 'failed'])
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: 'This job was created with input the worker no longer accepts.',
    })
    expect(failed.attempt).toBe(1)
    expect((await storedFile(job.id)).length).toBe(0)
  })

  it('stops a running all-cities export when its owner cancels, and keeps no partial file', async () => {
    const job = await exportCities({})
    const running = await waitForJobWhere(job.id, (j) => j.state !== 'active' || (j.progress?.current ?? 0) > 0)
    expect(running.state).toBe('active')
    expect(running.progress?.total).toBe(ALL_CITIES)

    const outcome = await requestCancel(db.pool, job.id, owner)
    expect(outcome.kind).toBe('cancelling')
    const cancelled = await waitForJob(db.url, job.id, ['cancelled', 'completed', 'failed'], 5_000)
    expect(cancelled.state).toBe('cancelled')
    expect(cancelled.result).toBeNull()
    expect(cancelled.progress!.current).toBeLessThan(ALL_CITIES)
    const {
      rows: [parts],
    } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.job_file_parts WHERE job_id = $1', [
      job.id,
    ])
    expect(parts!.n).toBe(0)
  })
})
