import { describe, expect, it } from 'vitest'
import { CITY_COLUMNS } from '@/lib/server/cities'
import { neutraliseFormula } from '@/lib/server/csv'
import { IMPORT_COLUMNS, checkImportHeader, parseImportRow, restoreFormula } from './imports'
import { queues } from './registry'

const columns = [...IMPORT_COLUMNS]

describe('the import contract', () => {
  it('expects exactly the columns a cities export writes, so an export imports back as it is', () => {
    expect(IMPORT_COLUMNS).toEqual(CITY_COLUMNS)
  })

  it('takes off the export’s formula guard and nothing else', () => {
    for (const text of ['=SUM(A1)', '+1', '-x', '@me', '\tTab', ' =spaced', 'plain', "'quoted", "O'Brien"]) {
      expect(restoreFormula(neutraliseFormula(text))).toBe(text)
    }
  })

  it('titles an import by its file name', () => {
    const payload = { uploadId: '11111111-1111-4111-8111-111111111111', fileName: 'my.csv', bytes: 3 }
    expect(queues.title({ queue: 'imports', payload })).toBe('Import · my.csv')
    expect(queues.title({ queue: 'imports', payload: {} })).toBe('Import')
  })
})

describe('checkImportHeader', () => {
  it('accepts the columns in any order and case, with spaces around them', () => {
    expect(checkImportHeader([' Name', 'ID ', 'country', 'latitude', 'longitude', 'population', 'Admin_Code'])).toEqual(
      {
        ok: true,
        columns: ['name', 'id', 'country', 'latitude', 'longitude', 'population', 'admin_code'],
      },
    )
  })

  it('names what is missing, unexpected or repeated', () => {
    expect(checkImportHeader(['id', 'name', 'name', 'country', 'admin_code', 'population', 'latitude', 'lng'])).toEqual(
      {
        ok: false,
        message:
          'The first row must be the header id,name,country,admin_code,population,latitude,longitude (missing longitude; unexpected lng; repeated name).',
      },
    )
  })
})

describe('parseImportRow', () => {
  it('turns a valid row’s text into typed values', () => {
    expect(parseImportRow(['3448439', 'São Paulo', 'br', '27', '10021295', '-23.5475', '-46.63611'], columns)).toEqual({
      ok: true,
      row: {
        id: 3448439,
        name: 'São Paulo',
        country: 'BR',
        admin_code: '27',
        population: 10021295,
        latitude: -23.5475,
        longitude: -46.63611,
      },
    })
  })

  it('reads an empty admin code as none and accepts exponents and signs in coordinates', () => {
    const parsed = parseImportRow(['1', 'A', 'IS', ' ', '0', '+1e1', '-.5'], columns)
    expect(parsed).toMatchObject({ ok: true, row: { admin_code: null, latitude: 10, longitude: -0.5 } })
  })

  it('gives one reason per invalid column, in the file’s order', () => {
    expect(parseImportRow(['0', '', 'BRA', '', '1,000', 'NaN', '181'], columns)).toEqual({
      ok: false,
      reason:
        'id: Must be 1 or more. name: Must not be empty. country: Use a two-letter country code, like BR. population: Must be a whole number. latitude: Must be a number. longitude: Must be between -180 and 180.',
    })
  })

  it('rejects a row with too few or too many fields', () => {
    expect(parseImportRow(['1', 'A'], columns)).toEqual({ ok: false, reason: 'Expected 7 fields, found 2.' })
    expect(
      parseImportRow(
        [...Array(8)].map(() => '1'),
        columns,
      ),
    ).toEqual({
      ok: false,
      reason: 'Expected 7 fields, found 8.',
    })
  })

  it('refuses numbers out of range and text that is too long', () => {
    expect(parseImportRow(['2147483648', 'A', 'BR', 'x'.repeat(21), '10000000001', '90.0001', '0'], columns)).toEqual({
      ok: false,
      reason:
        'id: Must be at most 2,147,483,647. admin_code: Use at most 20 characters. population: Must be at most 10,000,000,000. latitude: Must be between -90 and 90.',
    })
  })
})
