import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { attachmentDisposition } from './content-disposition'

/** Splits the header the way a client does: the quoted fallback and the decoded `filename*`. */
function parse(header: string): { fallback: string; utf8: string } {
  const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)$/.exec(header)
  if (!match) throw new Error(`not a well-formed Content-Disposition: ${JSON.stringify(header)}`)
  return { fallback: match[1]!, utf8: decodeURIComponent(match[2]!) }
}

describe('attachmentDisposition', () => {
  it('keeps a plain ASCII name as it is in both forms', () => {
    expect(attachmentDisposition('cities-1a2b3c4d.csv')).toBe(
      `attachment; filename="cities-1a2b3c4d.csv"; filename*=UTF-8''cities-1a2b3c4d.csv`,
    )
  })

  it.each([
    ['São Paulo.csv', 'S_o Paulo.csv'],
    ['Zürich – Übersicht.csv', 'Z_rich _ _bersicht.csv'],
    ['東京の都市.csv', '_____.csv'],
    ['cities 🌍🇧🇷.csv', 'cities ___.csv'],
  ])('gives the exact UTF-8 name in filename* and an ASCII fallback: %j', (name, fallback) => {
    const header = attachmentDisposition(name)
    expect(parse(header)).toEqual({ fallback, utf8: name })
    expect(header).toMatch(/^[\x20-\x7e]+$/)
  })

  it('percent-encodes the characters RFC 8187 does not allow bare, which encodeURIComponent leaves', () => {
    const header = attachmentDisposition("it's (a) *test*!.csv")
    expect(header).toContain("filename*=UTF-8''it%27s%20%28a%29%20%2Atest%2A!.csv")
    expect(parse(header).utf8).toBe("it's (a) *test*!.csv")
  })

  it('cannot be broken out of: quotes, backslashes and percent signs in the fallback, CR and LF anywhere', () => {
    const header = attachmentDisposition('a"b\\c%41\r\nSet-Cookie: x=1.csv')
    expect(header).not.toMatch(/[\r\n]/)
    const { fallback, utf8 } = parse(header)
    expect(fallback).toBe('a_b_c_41__Set-Cookie: x=1.csv')
    expect(utf8).toBe('a"b_c%41__Set-Cookie: x=1.csv')
  })

  it('never names a path', () => {
    const { fallback, utf8 } = parse(attachmentDisposition('../../etc/passwd'))
    expect(fallback).toBe('.._.._etc_passwd')
    expect(utf8).toBe('.._.._etc_passwd')
    expect(parse(attachmentDisposition('..\\..\\win.ini')).utf8).toBe('.._.._win.ini')
  })

  it('survives lone surrogates (encodeURIComponent would throw) and an empty name', () => {
    expect(parse(attachmentDisposition('a\uD800b\uDFFF.csv'))).toEqual({ fallback: 'a_b_.csv', utf8: 'a_b_.csv' })
    expect(parse(attachmentDisposition(''))).toEqual({ fallback: 'download', utf8: 'download' })
  })

  it('for any name: one header line of visible ASCII whose filename* decodes to the name, separators and controls replaced', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (name) => {
        const header = attachmentDisposition(name)
        expect(header).toMatch(/^[\x20-\x7e]+$/)
        const expected = name.replace(/[\\/\u0000-\u001f\u007f]|\p{Cs}/gu, '_') || 'download'
        expect(parse(header).utf8).toBe(expected)
      }),
      { numRuns: 1000 },
    )
  })
})
