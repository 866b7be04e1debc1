import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { csvStringifier, neutraliseFormula } from './csv'

/** Writes `records` through a fresh stringifier (our exporter's rules) and returns every byte. */
async function write(columns: string[], records: Record<string, unknown>[]): Promise<Buffer> {
  return buffer(Readable.from(records).pipe(csvStringifier(columns)))
}

/**
 * Reads CSV the way a standard parser does: header row as keys, BOM skipped. `relax_quotes` accepts
 * a quote inside an unquoted field (csv-spectrum's location_coordinates has `37°36'37.8"N`).
 */
function read(csv: Buffer | string): Record<string, string>[] {
  return parse(csv, { bom: true, columns: true, relax_quotes: true }) as Record<string, string>[]
}

/** csv-spectrum files whose expected JSON disagrees with the CSV itself (its phone number differs). */
const CORPUS_JSON_ERRATA = new Set(['location_coordinates'])

const spectrum = path.join(path.dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json')))
const corpus = readdirSync(path.join(spectrum, 'csvs'))
  .filter((f) => f.endsWith('.csv'))
  .map((f) => f.slice(0, -4))
  .sort()

describe('CSV round trip', () => {
  it('covers every file of the csv-spectrum corpus', () => {
    // If a csv-spectrum upgrade adds files, they are picked up; this only guards against an empty folder.
    expect(corpus.length).toBeGreaterThanOrEqual(12)
  })

  it.each(corpus)(
    'csv-spectrum %s: read with a standard parser, written by our exporter, read again: identical values',
    async (name) => {
      const original = read(readFileSync(path.join(spectrum, 'csvs', `${name}.csv`)))
      // The parser agrees with the corpus' own expected values, so the comparison below means something.
      const expected: unknown = JSON.parse(readFileSync(path.join(spectrum, 'json', `${name}.json`), 'utf8'))
      if (!CORPUS_JSON_ERRATA.has(name)) expect(original).toEqual(Array.isArray(expected) ? expected : [expected])
      expect(original.length).toBeGreaterThan(0)
      const columns = Object.keys(original[0]!)
      const again = read(await write(columns, original))
      expect(again).toEqual(original)
    },
  )

  const awkward: [string, string][] = [
    ['comma', 'Xeraco,Jaraco'],
    ['quotes', 'Poselok "Klyazminskoe" ""twice"" "'],
    ['CR', 'one\rtwo'],
    ['LF', 'one\ntwo'],
    ['CRLF', 'one\r\ntwo\r\n'],
    ['all of them', '",\r\n,"\n\r"'],
    ['emoji', 'Rio 🇧🇷 🏖️ 👩‍👩‍👧‍👦 São'],
    ['leading and trailing spaces', '  padded  '],
    ['a quote only', '"'],
    ['BOM inside a value', '\uFEFFstarts with a BOM'],
  ]

  it.each(awkward)('keeps a value with %s identical', async (_, value) => {
    const records = [{ id: '1', value, after: 'x' }]
    expect(read(await write(['id', 'value', 'after'], records))).toEqual(records)
  })

  it('keeps 100 KB cells identical, whatever they contain', async () => {
    const pieces = ['a', ',', '"', '\r', '\n', '\r\n', 'ã', '🌍', ' ', '=', '\t']
    let seed = 7
    const cell = (bytes: number) => {
      const out = ['x'] // not a formula start, so the value must come back untouched
      for (let size = 1; size < bytes;) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        const piece = pieces[seed % pieces.length]!
        out.push(piece)
        size += Buffer.byteLength(piece)
      }
      return out.join('')
    }
    const records = [
      { a: cell(100 * 1024), b: 'between', c: cell(100 * 1024) },
      { a: 'small', b: cell(100 * 1024), c: '' },
    ]
    const csv = await write(['a', 'b', 'c'], records)
    expect(csv.length).toBeGreaterThan(300 * 1024)
    expect(read(csv)).toEqual(records)
  })

  it('neutralises formula starts in header and text cells, and reads back exactly the neutralised text', async () => {
    const header = ['=HYPERLINK("http://evil.example")', '+cmd', ' @sum', 'plain']
    const records = [Object.fromEntries(header.map((h, i) => [h, ['-1+1', '\t=1', '\r=1', '  =1'][i]]))]
    const rows = parse(await write(header, records), { bom: true }) as string[][]
    expect(rows[0]).toEqual(header.map(neutraliseFormula))
    expect(rows[0]).toEqual(['\'=HYPERLINK("http://evil.example")', "'+cmd", "' @sum", 'plain'])
    expect(rows[1]).toEqual(["'-1+1", "'\t=1", "'\r=1", "'  =1"])
  })

  it('writes real numbers as they are, negative and fractional ones included', async () => {
    const records = [{ n: -42.5 }, { n: -0.5 }, { n: 1e21 }, { n: -7 }]
    const rows = parse(await write(['n'], records), { bom: true }) as string[][]
    expect(rows.slice(1).map(([n]) => n)).toEqual(['-42.5', '-0.5', '1e+21', '-7'])
  })
})
