import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { describe, expect, it } from 'vitest'
import { setupTestDatabase } from '@/test/kit'
import { citiesCsvCopy, citiesWhere, CITY_COLUMNS } from './cities'
import { csvStringifier } from './csv'
import { CopyCsv, copyCsvStatement } from './csv-copy'

const db = setupTestDatabase({ poolMax: 2 })

/** The file the COPY path writes: PostgreSQL's CSV through CopyCsv. */
async function viaCopy(statement: string): Promise<{ bytes: Buffer; records: number }> {
  const client = await db.pool.connect()
  try {
    const csv = new CopyCsv()
    const out: Buffer[] = []
    await pipeline(client.query(copyTo(statement)), csv, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk)
    })
    return { bytes: Buffer.concat(out), records: csv.records }
  } finally {
    client.release()
  }
}

/** The file the JavaScript path writes: the rows node-postgres returns, through csvStringifier. */
async function viaJavaScript(columns: readonly string[], select: string, values: unknown[] = []): Promise<Buffer> {
  const { rows } = await db.pool.query(select, values)
  return buffer(Readable.from(rows).pipe(csvStringifier([...columns])))
}

/** Where two files first differ, with some context, or null: keeps a 10 MB mismatch readable. */
function firstDifference(a: Buffer, b: Buffer) {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  if (i === n && a.length === b.length) return null
  return { at: i, copy: a.subarray(i - 40, i + 40).toString(), javascript: b.subarray(i - 40, i + 40).toString() }
}

/** A temporary table of text columns holding `rows`, for comparing both paths on any text. */
async function textTable(client: pg.PoolClient, columns: string[], rows: (string | number)[][]): Promise<string> {
  const table = `t_${Math.random().toString(36).slice(2, 10)}`
  const ident = columns.map((c) => pg.escapeIdentifier(c))
  await client.query(`CREATE TABLE ${table} (n serial, ${ident.map((c) => `${c} text`).join(', ')})`)
  for (const row of rows) {
    const params = row.map((_, i) => `$${i + 1}`).join(', ')
    await client.query(`INSERT INTO ${table} (${ident.join(', ')}) VALUES (${params})`, row)
  }
  return table
}

describe('CSV written by COPY', () => {
  it('equals the JavaScript writer byte for byte on every city', async () => {
    const copy = await viaCopy(citiesCsvCopy({}))
    const javascript = await viaJavaScript(
      CITY_COLUMNS,
      `SELECT ${CITY_COLUMNS.join(', ')} FROM app.cities ORDER BY id`,
    )
    expect(copy.records).toBe(135_233)
    expect(firstDifference(copy.bytes, javascript)).toBeNull()
  })

  it.each([
    { nameContains: "o'" },
    { nameContains: '\\' },
    { nameContains: '"', minPopulation: 0 },
    { nameContains: 'são', country: 'BR', minPopulation: 5000 },
  ])('filters exactly like the parameterised query for %j, quotes and backslashes included', async (item) => {
    const { where, values } = citiesWhere(item)
    const copy = await viaCopy(citiesCsvCopy(item))
    const javascript = await viaJavaScript(
      CITY_COLUMNS,
      `SELECT ${CITY_COLUMNS.join(', ')} FROM app.cities ${where} ORDER BY id`,
      values,
    )
    expect(firstDifference(copy.bytes, javascript)).toBeNull()
  })

  const spectrum = path.dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json'))
  const corpus = readdirSync(path.join(spectrum, 'csvs'))
    .filter((f) => f.endsWith('.csv'))
    .map((f) => f.slice(0, -4))
    .sort()

  it.each(corpus)('equals the JavaScript writer byte for byte on csv-spectrum %s', async (name) => {
    const records = parse(readFileSync(path.join(spectrum, 'csvs', `${name}.csv`)), {
      bom: true,
      columns: true,
      relax_quotes: true,
    }) as Record<string, string>[]
    const columns = Object.keys(records[0]!)
    const client = await db.pool.connect()
    try {
      const table = await textTable(
        client,
        columns,
        records.map((r) => columns.map((c) => r[c]!)),
      )
      const select = (text: (c: string) => string) =>
        `SELECT ${columns.map((c) => `${text(pg.escapeIdentifier(c))} AS ${pg.escapeIdentifier(c)}`).join(', ')} FROM ${table} ORDER BY n`
      const copy = await viaCopy(copyCsvStatement(select((c) => `app.csv_text(${c})`)))
      const javascript = await viaJavaScript(
        columns,
        select((c) => c),
      )
      expect(copy.records).toBe(records.length)
      expect(firstDifference(copy.bytes, javascript)).toBeNull()
    } finally {
      client.release()
    }
  })

  it('equals the JavaScript writer byte for byte for any text and whole number', async () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\r', '\n', '\t', '=', '+', '-', '@', "'", '\\', 'ã') }),
    )
    const client = await db.pool.connect()
    try {
      await client.query('CREATE TABLE prop (n serial, text text, number bigint)')
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(cell, fc.integer()), { maxLength: 5 }), async (rows) => {
          await client.query('TRUNCATE prop')
          for (const [text, number] of rows)
            await client.query('INSERT INTO prop (text, number) VALUES ($1, $2)', [text, number])
          const copy = await viaCopy(copyCsvStatement('SELECT app.csv_text(text) AS text, number FROM prop ORDER BY n'))
          // node-postgres returns bigint as text: the JavaScript writer gets the number, as the export did.
          const { rows: stored } = await client.query<{ text: string; number: string }>(
            'SELECT text, number FROM prop ORDER BY n',
          )
          const javascript = await buffer(
            Readable.from(stored.map((r) => ({ text: r.text, number: Number(r.number) }))).pipe(
              csvStringifier(['text', 'number']),
            ),
          )
          expect(copy.records).toBe(rows.length)
          expect(copy.bytes.toString('utf8')).toBe(javascript.toString('utf8'))
        }),
        { numRuns: 150 },
      )
    } finally {
      await client.query('DROP TABLE IF EXISTS prop')
      client.release()
    }
  })

  it('writes any double that reads back as the same number (exponents are spelled 1e-05, not 1e-5)', async () => {
    const client = await db.pool.connect()
    try {
      await client.query('CREATE TABLE doubles (n serial, x double precision)')
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 }),
          async (xs) => {
            await client.query('TRUNCATE doubles')
            for (const x of xs) await client.query('INSERT INTO doubles (x) VALUES ($1)', [x])
            const copy = await viaCopy(copyCsvStatement('SELECT x FROM doubles ORDER BY n'))
            const read = (parse(copy.bytes, { bom: true, columns: true }) as { x: string }[]).map((r) => Number(r.x))
            // node-postgres sends -0 as "0" (String(-0)), so it is stored, and read back, as 0.
            expect(read).toEqual(xs.map((x) => x + 0))
          },
        ),
        { numRuns: 100 },
      )
    } finally {
      await client.query('DROP TABLE IF EXISTS doubles')
      client.release()
    }
  })
})
