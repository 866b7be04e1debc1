import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { csvStringifier, neutraliseFormula } from './csv'

const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** Writes `records` through a fresh stringifier and returns every byte it produced. */
async function stringify(columns: string[], records: Record<string, unknown>[]): Promise<Buffer> {
  return buffer(Readable.from(records).pipe(csvStringifier(columns)))
}

/** Parses CSV bytes back into arrays of text cells (header row first), the way a spreadsheet import would. */
function parseRows(csv: Buffer): string[][] {
  return parse(csv, { bom: true, record_delimiter: '\r\n', relax_column_count: false }) as string[][]
}

describe('neutraliseFormula', () => {
  it.each([
    ['=SUM(A1:A2)'],
    ['+1+1'],
    ['-2+3'],
    ['@cmd'],
    ['\tindent'],
    ['\rcarriage'],
    ['   =HYPERLINK("http://evil.example")'],
    [' +1'],
    ['  -x'],
    [' @x'],
  ])('makes text a spreadsheet would run as a formula inert: %j', (text) => {
    expect(neutraliseFormula(text)).toBe(`'${text}`)
  })

  it.each([
    ['São Paulo'],
    ['Xeraco,Jaraco'],
    ["N'zeto"],
    ['a=b'],
    ['1+1'],
    ['e-mail'],
    ['x@y'],
    ['42'],
    [''],
    ['   '],
    ['\nline'],
  ])('leaves ordinary text alone: %j', (text) => {
    expect(neutraliseFormula(text)).toBe(text)
  })

  it('neutralises text that merely looks like a negative number, because it is text', () => {
    // "-42.5" stored as text is indistinguishable from a formula start; numbers are never passed here.
    expect(neutraliseFormula('-42.5')).toBe("'-42.5")
  })
})

describe('csvStringifier', () => {
  it('writes a UTF-8 BOM, then the header row, with CRLF after every record', async () => {
    const csv = await stringify(
      ['id', 'name'],
      [
        { id: 1, name: 'Andorra la Vella' },
        { id: 2, name: 'Encamp' },
      ],
    )
    expect(csv.subarray(0, 3)).toEqual(BOM)
    expect(csv.subarray(3).toString('utf8')).toBe('id,name\r\n1,Andorra la Vella\r\n2,Encamp\r\n')
  })

  it('writes only the BOM and the header row when there are no records', async () => {
    const csv = await stringify(['id', 'name', 'country'], [])
    expect(csv).toEqual(Buffer.concat([BOM, Buffer.from('id,name,country\r\n')]))
  })

  it('keeps the columns in the order given, whatever the order of the record keys', async () => {
    const csv = await stringify(['b', 'a'], [{ a: 'first', b: 'second' }])
    expect(parseRows(csv)).toEqual([
      ['b', 'a'],
      ['second', 'first'],
    ])
  })

  it('quotes fields with a comma, a quote, a CR or a LF as RFC 4180 says, doubling quotes', async () => {
    const records = [
      { id: 1, text: 'Xeraco,Jaraco' },
      { id: 2, text: 'Poselok "Klyazminskoe"' },
      { id: 3, text: 'line one\nline two' },
      { id: 4, text: 'line one\rline two' },
      { id: 5, text: 'line one\r\nline two' },
      { id: 6, text: 'plain' },
    ]
    const csv = await stringify(['id', 'text'], records)
    expect(csv.subarray(3).toString('utf8')).toBe(
      [
        'id,text',
        '1,"Xeraco,Jaraco"',
        '2,"Poselok ""Klyazminskoe"""',
        '3,"line one\nline two"',
        '4,"line one\rline two"',
        '5,"line one\r\nline two"',
        '6,plain',
        '',
      ].join('\r\n'),
    )
    expect(parseRows(csv).slice(1)).toEqual(records.map((r) => [String(r.id), r.text]))
  })

  it('writes numbers as numbers, negative ones included, but neutralises text that starts like a formula', async () => {
    const records = [
      { kind: 'number', value: -42.5 },
      { kind: 'text', value: '-42.5' },
      { kind: 'text', value: '=1+2' },
      { kind: 'number', value: 0 },
      { kind: 'number', value: -0.000123 },
    ]
    const csv = await stringify(['kind', 'value'], records)
    expect(parseRows(csv).slice(1)).toEqual([
      ['number', '-42.5'],
      ['text', "'-42.5"],
      ['text', "'=1+2"],
      ['number', '0'],
      ['number', String(-0.000123)],
    ])
  })

  it('neutralises a text cell that starts with a tab or a CR, and still quotes the CR', async () => {
    const csv = await stringify(['v'], [{ v: '\t=cmd' }, { v: '\r=cmd' }])
    expect(csv.subarray(3).toString('utf8')).toBe('v\r\n\'\t=cmd\r\n"\'\r=cmd"\r\n')
    expect(parseRows(csv).slice(1)).toEqual([["'\t=cmd"], ["'\r=cmd"]])
  })

  it('writes a missing or null value as an empty field', async () => {
    const csv = await stringify(
      ['id', 'admin_code', 'name'],
      [
        { id: 7, admin_code: null, name: 'x' },
        { id: 8, name: 'y' },
      ],
    )
    expect(parseRows(csv).slice(1)).toEqual([
      ['7', '', 'x'],
      ['8', '', 'y'],
    ])
  })

  it('neutralises a header that starts like a formula', async () => {
    const csv = await stringify(['=id', 'name'], [{ '=id': 1, name: 'a' }])
    expect(parseRows(csv)[0]).toEqual(["'=id", 'name'])
  })

  it('keeps non-ASCII text intact, byte for byte', async () => {
    const names = ['São Paulo', 'Zürich', 'Ñuñoa', '東京', 'Ḩalab', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢']
    const csv = await stringify(
      ['name'],
      names.map((name) => ({ name })),
    )
    for (const name of names) expect(csv.includes(Buffer.from(name, 'utf8'))).toBe(true)
    expect(
      parseRows(csv)
        .slice(1)
        .map(([n]) => n),
    ).toEqual(names)
  })

  it('round-trips every csv-spectrum sample through a CSV parser', async () => {
    const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json')), 'json')
    for (const file of [
      'comma_in_quotes',
      'empty',
      'escaped_quotes',
      'json',
      'newlines',
      'newlines_crlf',
      'quotes_and_newlines',
      'utf8',
    ]) {
      const records = JSON.parse(readFileSync(path.join(dir, `${file}.json`), 'utf8')) as Record<string, string>[]
      const columns = Object.keys(records[0]!)
      const csv = await stringify(columns, records)
      const parsed = parse(csv, { bom: true, columns: true }) as Record<string, string>[]
      expect(parsed, file).toEqual(records)
    }
  })

  it('parses back to the same text for any text, neutralised exactly when it starts like a formula', async () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\r', '\n', '\t', '=', '+', '-', '@', "'", 'ã') }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(cell, fc.double({ noNaN: true, noDefaultInfinity: true })), { maxLength: 5 }),
        async (rows) => {
          const csv = await stringify(
            ['text', 'number'],
            rows.map(([text, number]) => ({ text, number })),
          )
          const parsed = parseRows(csv)
          expect(parsed[0]).toEqual(['text', 'number'])
          expect(parsed.slice(1)).toEqual(
            rows.map(([text, number]) => [/^ *[=+\-@\t\r]/.test(text) ? `'${text}` : text, String(number)]),
          )
        },
      ),
      { numRuns: 300 },
    )
    // 300 runs take about a second; a loaded machine (CI, shared cores) can take several times that.
  }, 60_000)
})
