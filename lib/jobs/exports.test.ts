import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ExportItem } from './exports'

/** The field messages a form would show next to each field, or null when the input is accepted. */
function fieldErrors(input: unknown): Record<string, string[]> | null {
  const parsed = ExportItem.safeParse(input)
  return parsed.success ? null : (z.flattenError(parsed.error).fieldErrors as Record<string, string[]>)
}

describe('ExportItem', () => {
  it('treats blank and whitespace-only fields as "no filter"', () => {
    expect(ExportItem.parse({ nameContains: '', country: '   ', minPopulation: '\t' })).toEqual({})
    expect(ExportItem.parse({})).toEqual({})
    const parsed = ExportItem.parse({ nameContains: ' ', country: '', minPopulation: '' })
    expect(parsed.nameContains).toBeUndefined()
    expect(parsed.country).toBeUndefined()
    expect(parsed.minPopulation).toBeUndefined()
  })

  it('trims the name and keeps its inner spaces and non-ASCII letters as typed', () => {
    expect(ExportItem.parse({ nameContains: '  são  paulo ' }).nameContains).toBe('são  paulo')
    expect(ExportItem.parse({ nameContains: 'SAN' }).nameContains).toBe('SAN')
  })

  it('upper-cases a two-letter country code, after trimming it', () => {
    expect(ExportItem.parse({ country: 'br' }).country).toBe('BR')
    expect(ExportItem.parse({ country: ' Br ' }).country).toBe('BR')
    expect(ExportItem.parse({ country: 'US' }).country).toBe('US')
  })

  it.each(['BRA', 'B', 'B1', '12', 'ÜS', 'B R', 'br;'])(
    'rejects the country %j with a message that shows the expected form',
    (country) => {
      expect(fieldErrors({ country })).toEqual({ country: ['Use a two-letter country code, like BR.'] })
    },
  )

  it('reads a minimum population typed as text as a number, and accepts the bounds', () => {
    expect(ExportItem.parse({ minPopulation: '5000' }).minPopulation).toBe(5000)
    expect(ExportItem.parse({ minPopulation: ' 5000 ' }).minPopulation).toBe(5000)
    expect(ExportItem.parse({ minPopulation: '0' }).minPopulation).toBe(0)
    expect(ExportItem.parse({ minPopulation: '+250' }).minPopulation).toBe(250)
    expect(ExportItem.parse({ minPopulation: 1234 }).minPopulation).toBe(1234)
    expect(ExportItem.parse({ minPopulation: '10000000000' }).minPopulation).toBe(10_000_000_000)
  })

  it.each([
    ['-1', 'Must be 0 or more.'],
    [-1, 'Must be 0 or more.'],
    ['-0.5', 'Enter a whole number.'],
    ['12.5', 'Enter a whole number.'],
    [12.5, 'Enter a whole number.'],
    ['1e3', 'Enter a whole number.'],
    ['5,000', 'Enter a whole number.'],
    ['five', 'Enter a whole number.'],
    ['10000000001', 'Must be at most 10,000,000,000.'],
    [10_000_000_001, 'Must be at most 10,000,000,000.'],
  ])('rejects the minimum population %j with %j', (minPopulation, message) => {
    expect(fieldErrors({ minPopulation })).toEqual({ minPopulation: [message] })
  })

  it('rejects a minimum population too large to be exact, naming the upper bound', () => {
    // 1e23 is past Number.MAX_SAFE_INTEGER, so zod also calls it "not a whole number"; the bound must still show.
    expect(fieldErrors({ minPopulation: '99999999999999999999999' })?.minPopulation).toContain(
      'Must be at most 10,000,000,000.',
    )
  })

  it.each([['9'.repeat(400)], [Number.POSITIVE_INFINITY], [Number.NaN], [true], [null]])(
    'rejects the minimum population %j',
    (minPopulation) => {
      expect(fieldErrors({ minPopulation })?.minPopulation?.length).toBeGreaterThan(0)
    },
  )

  it('rejects fields it does not know, so a typo is not silently ignored', () => {
    const parsed = ExportItem.safeParse({ nameContains: 'san', minPopulaton: '5000' })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['minPopulaton'] }),
    ])
  })

  it('rejects a name with a NUL character, which PostgreSQL text cannot hold', () => {
    expect(fieldErrors({ nameContains: 'sa\u0000n' })).toEqual({ nameContains: ['Must not contain NUL characters.'] })
  })

  it('rejects a name that is not well-formed text (a lone surrogate)', () => {
    expect(fieldErrors({ nameContains: 'sa\uD800n' })).toEqual({ nameContains: ['Must be valid text.'] })
  })

  it('accepts a name of 100 characters and rejects 101', () => {
    expect(ExportItem.parse({ nameContains: 'a'.repeat(100) }).nameContains).toHaveLength(100)
    expect(fieldErrors({ nameContains: 'a'.repeat(101) })).toEqual({ nameContains: ['Use at most 100 characters.'] })
  })

  it('rejects a name that is not text', () => {
    expect(fieldErrors({ nameContains: 42 })?.nameContains?.length).toBeGreaterThan(0)
  })

  it('reports every invalid field at once', () => {
    expect(
      Object.keys(fieldErrors({ nameContains: 'a'.repeat(101), country: 'BRA', minPopulation: '-5' }) ?? {}).sort(),
    ).toEqual(['country', 'minPopulation', 'nameContains'])
  })

  it('parses its own output to the same value, as the worker re-parses a stored payload', () => {
    const item = ExportItem.parse({ nameContains: ' san ', country: 'br', minPopulation: '5000' })
    expect(item).toEqual({ nameContains: 'san', country: 'BR', minPopulation: 5000 })
    expect(ExportItem.parse(JSON.parse(JSON.stringify(item)))).toEqual(item)
  })
})
