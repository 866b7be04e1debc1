import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { csvStringifier, neutraliseFormula } from './csv'
import { CopyCsv, type CopyCsvOptions } from './csv-copy'

const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/**
 * What PostgreSQL's `COPY ... TO STDOUT WITH (FORMAT csv, HEADER)` sends for these rows after
 * app.csv_text(): a field is quoted when it contains a comma, a quote, a CR or a LF (quotes
 * doubled), NULL is an empty field, and every record ends with a bare LF. (The integration test
 * lib/server/csv-copy.int.test.ts checks the same against a real COPY.)
 */
function copyBytes(columns: string[], rows: (string | null)[][]): Buffer {
  const field = (v: string | null) => (v === null ? '' : /[,"\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
  return Buffer.from([columns, ...rows].map((r) => `${r.map(field).join(',')}\n`).join(''), 'utf8')
}

/** app.csv_text() as the unit under test sees its result: the formula rule, and '' as NULL. */
const csvText = (v: string) => (v === '' ? null : neutraliseFormula(v))

/** Feeds `bytes` to a CopyCsv in pieces cut at `cuts` (byte offsets, anywhere, even inside a character). */
async function convert(bytes: Buffer, cuts: number[] = [], options?: CopyCsvOptions) {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const pieces = [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length)).filter((p) => p.length)
  const csv = new CopyCsv(options)
  const out: Buffer[] = []
  await pipeline(Readable.from(pieces, { objectMode: false }), csv, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk)
  })
  return { bytes: Buffer.concat(out), records: csv.records }
}

async function stringify(columns: string[], rows: string[][]): Promise<Buffer> {
  const records = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])))
  return buffer(Readable.from(records).pipe(csvStringifier(columns)))
}

describe('CopyCsv', () => {
  it('adds the BOM and a CR before every record end, and counts the records after the header', async () => {
    const { bytes, records } = await convert(Buffer.from('id,name\n1,Lisbon\n2,Porto\n'))
    expect(bytes).toEqual(Buffer.concat([BOM, Buffer.from('id,name\r\n1,Lisbon\r\n2,Porto\r\n')]))
    expect(records).toBe(2)
  })

  it('keeps a LF inside a quoted field as data and counts that record once', async () => {
    const { bytes, records } = await convert(Buffer.from('name\n"one\ntwo"\n"say ""hi""\nthere"\n'), [5, 9, 17])
    expect(bytes.subarray(3).toString()).toBe('name\r\n"one\ntwo"\r\n"say ""hi""\nthere"\r\n')
    expect(records).toBe(2)
  })

  it('writes the BOM and header only when the query matched nothing', async () => {
    const { bytes, records } = await convert(Buffer.from('id,name\n'))
    expect(bytes).toEqual(Buffer.concat([BOM, Buffer.from('id,name\r\n')]))
    expect(records).toBe(0)
  })

  it('equals the JavaScript writer byte for byte for any text, cut into chunks anywhere', async () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\r', '\n', '\t', '=', '+', '-', '@', "'", 'ã', '🏖️') }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(cell, cell), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (rows, cuts) => {
          const columns = ['a', 'b']
          const expected = await stringify(columns, rows)
          const { bytes, records } = await convert(
            copyBytes(
              columns,
              rows.map((r) => r.map(csvText)),
            ),
            cuts,
          )
          expect(bytes.toString('utf8')).toBe(expected.toString('utf8'))
          expect(bytes.equals(expected)).toBe(true)
          expect(records).toBe(rows.length)
        },
      ),
      { numRuns: 300 },
    )
  }, 60_000)

  it('calls onChunk once per chunk with the records so far and how many that chunk completed', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => [`r${i}`])
    const seen: [number, number][] = []
    // Chunks end inside the header, after r0 and inside r5 ("x\nr0\nr1\n...": r0 ends at byte 5).
    await convert(copyBytes(['x'], rows), [1, 5, 17], {
      onChunk: (records, added) => void seen.push([records, added]),
    })
    expect(seen).toEqual([
      [0, 0],
      [1, 1],
      [5, 4],
      [10, 5],
    ])
  })

  it('stops with the error onChunk throws, passing nothing of that chunk on', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => [`r${i}`])
    const stop = new Error('cancelled')
    const passed: Buffer[] = []
    const csv = new CopyCsv({
      onChunk: (records) => {
        if (records > 3) throw stop
        return undefined
      },
    })
    csv.on('data', (b: Buffer) => passed.push(b))
    const bytes = copyBytes(['x'], rows)
    const run = pipeline(Readable.from([bytes.subarray(0, 8), bytes.subarray(8)], { objectMode: false }), csv)
    await expect(run).rejects.toBe(stop)
    expect(Buffer.concat(passed).toString()).toBe('\ufeffx\r\nr0\r\nr1\r\n')
  })

  it('holds a chunk back until the promise onChunk returned settles', async () => {
    const order: string[] = []
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const csv = new CopyCsv({
      onChunk: (n) => {
        order.push(`chunk ${n}`)
        return n === 1 ? held.then(() => void order.push('released')) : undefined
      },
    })
    csv.on('data', (b: Buffer) => order.push(`passed ${JSON.stringify(b.toString().replace('\ufeff', ''))}`))
    csv.write(Buffer.from('x\nfirst\n'))
    csv.write(Buffer.from('second\n'))
    await new Promise((r) => setImmediate(r))
    expect(order).toEqual(['chunk 1'])
    release()
    await new Promise<void>((r) => csv.end(r))
    expect(order).toEqual([
      'chunk 1',
      'released',
      'passed ""',
      'passed "x\\r\\nfirst\\r\\n"',
      'chunk 2',
      'passed "second\\r\\n"',
    ])
  })

  it('fails when the input ends inside a quoted field', async () => {
    await expect(convert(Buffer.from('x\n"open\n'))).rejects.toThrow(/inside a quoted field/)
  })
})
