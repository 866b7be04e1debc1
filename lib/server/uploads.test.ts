import { describe, expect, it } from 'vitest'
import { checkCsvStart } from './uploads'

const HEADER = 'id,name,country,admin_code,population,latitude,longitude'
const bytes = (text: string) => Buffer.from(text, 'utf8')

describe('checkCsvStart', () => {
  it('accepts the cities header with or without a BOM, with CRLF or LF', () => {
    for (const bom of ['', '\uFEFF'])
      for (const eol of ['\r\n', '\n']) {
        expect(checkCsvStart(bytes(`${bom}${HEADER}${eol}1,A,BR,,1,2,3${eol}`), true)).toMatchObject({ ok: true })
      }
  })

  it('accepts a quoted header', () => {
    expect(
      checkCsvStart(bytes(`"id","name","country","admin_code","population","latitude","longitude"\n1`), false),
    ).toMatchObject({
      ok: true,
    })
  })

  it('does not mistake a character cut at the end of the first bytes for bad UTF-8', () => {
    const text = bytes(`${HEADER}\n1,São,BR,,1,2,3\n`)
    const cut = text.subarray(0, text.indexOf(0xc3) + 1)
    expect(checkCsvStart(cut, false)).toMatchObject({ ok: true })
    expect(checkCsvStart(cut, true)).toEqual({ ok: false, message: 'This is not a CSV file: it is not UTF-8 text.' })
  })

  it('refuses empty files, binary files and files without the header', () => {
    expect(checkCsvStart(Buffer.alloc(0), true)).toEqual({ ok: false, message: 'The file is empty.' })
    expect(checkCsvStart(bytes('\uFEFF \r\n'), true)).toEqual({ ok: false, message: 'The file is empty.' })
    expect(checkCsvStart(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), false)).toEqual({
      ok: false,
      message: 'This is not a CSV file: it is not UTF-8 text.',
    })
    expect(checkCsvStart(bytes(`${HEADER}\r\n`), true)).toEqual({
      ok: false,
      message: 'The file has a header but no rows.',
    })
    expect(checkCsvStart(bytes('"id,name\n'), false)).toMatchObject({ ok: false })
    expect(checkCsvStart(bytes('a'.repeat(100)), false)).toEqual({
      ok: false,
      message: 'This is not a cities CSV file: its first line is longer than 64 KB.',
    })
  })
})
