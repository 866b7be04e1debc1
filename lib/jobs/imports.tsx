/**
 * The `imports` queue contract: a CSV of cities uploaded by a viewer, validated row by row and
 * published as one data set. Shared by the upload route (web tier), `ImportQueue` (worker tier)
 * and the job card (browser): name, payload, result, title and how a result is shown; the row
 * rules live here too so both tiers and the tests read one definition. Registered in
 * lib/jobs/registry.ts. Renderers are plain functions of the result (see lib/jobs/exports.tsx).
 */
import { z } from 'zod'
import { defineQueue } from './queue'

export const IMPORTS_QUEUE = 'imports'

/**
 * The header an import expects, in any order: the columns of a cities export
 * (`CITY_COLUMNS` in lib/server/cities.ts), so an export can be imported back as it is.
 */
export const IMPORT_COLUMNS = ['id', 'name', 'country', 'admin_code', 'population', 'latitude', 'longitude'] as const
export type ImportColumn = (typeof IMPORT_COLUMNS)[number]

/**
 * A job's payload: the stored upload to read (`app.uploads`, owned by the job's owner), its
 * file name as the viewer's browser gave it (for titles) and its size in bytes (the progress total).
 */
export const ImportItem = z.strictObject({
  uploadId: z.uuid(),
  fileName: z.string().min(1).max(255),
  bytes: z.number().int().nonnegative(),
})
export type ImportItem = z.infer<typeof ImportItem>

/**
 * What a completed import returns. `imported` rows are browsable at `rowsUrl`; when `rejected`
 * is above 0, `rejectedUrl` serves them as CSV (row number, reason, the row's cells), owner only.
 */
export const ImportResult = z.object({
  fileName: z.string(),
  imported: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  rowsUrl: z.string(),
  rejectedUrl: z.string().nullable(),
})
export type ImportResult = z.infer<typeof ImportResult>

const numbers = new Intl.NumberFormat('en-US')
const rowCount = (n: number) => `${numbers.format(n)} ${n === 1 ? 'row' : 'rows'}`

/**
 * The `imports` queue. Titles read "Import · cities.csv" (wording avoids the import form's labels);
 * a completed import shows "Imported N rows" with a link to browse them and, when some were
 * rejected, "Rejected M rows" with **Download rejected rows** (the accessible contract e2e relies on).
 * Per-viewer limit: the upload route passes IMPORT_LIMIT_PER_VIEWER (default 3).
 */
export const importsQueue = defineQueue({
  name: IMPORTS_QUEUE,
  label: 'Import',
  payload: ImportItem,
  result: ImportResult,
  title: (item) => `Import · ${item.fileName}`,
  options: { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireInSeconds: 30 * 60 },
  limitPerOwner: 3,
  renderResult: (result) => (
    <div className="import-result">
      <p>
        <span>Imported {rowCount(result.imported)}</span>
        {result.imported > 0 && (
          <>
            {' · '}
            <a href={result.rowsUrl}>View imported rows</a>
          </>
        )}
      </p>
      {result.rejected > 0 && result.rejectedUrl && (
        <p>
          <span className="job-error-text">Rejected {rowCount(result.rejected)}</span>
          {' · '}
          <a href={result.rejectedUrl} download>
            Download rejected rows
          </a>
        </p>
      )}
    </div>
  ),
})

/**
 * A spreadsheet-safe export prefixes `'` to text that could start a formula (lib/server/csv.ts);
 * importing takes that prefix off again, so an export round-trips. Other text is kept as it is.
 */
export function restoreFormula(value: string): string {
  return /^'[ ]*[=+\-@\t\r]/.test(value) ? value.slice(1) : value
}

const text = (max: number) =>
  z
    .string()
    .transform(restoreFormula)
    .pipe(z.string().max(max, `Use at most ${max} characters.`))
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
const WHOLE = /^[+-]?\d+$/

/** A cell holding a number written in plain decimal notation (no thousands separators, no NaN). */
function numberCell(pattern: RegExp, message: string) {
  return z
    .string()
    .trim()
    .refine((s) => pattern.test(s), message)
    .transform(Number)
}

/**
 * One data row of an import, from its text cells to the typed row stored in
 * `app.imported_cities`. Messages are shown to the owner in the rejected-rows file.
 * - `id`: whole number from 1 to 2,147,483,647, once per file.
 * - `name`: 1 to 200 characters after trimming.
 * - `country`: two letters (ISO 3166-1 alpha-2), stored upper-case.
 * - `admin_code`: up to 20 characters; empty means none.
 * - `population`: whole number from 0 to 10,000,000,000.
 * - `latitude` / `longitude`: decimal degrees, -90 to 90 / -180 to 180.
 */
export const ImportRow = z.object({
  id: numberCell(WHOLE, 'Must be a whole number.').pipe(
    z.number().int().min(1, 'Must be 1 or more.').max(2_147_483_647, 'Must be at most 2,147,483,647.'),
  ),
  name: text(200).pipe(z.string().trim().min(1, 'Must not be empty.')),
  country: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'Use a two-letter country code, like BR.')
    .transform((s) => s.toUpperCase()),
  admin_code: text(20).transform((s) => (s.trim() === '' ? null : s.trim())),
  population: numberCell(WHOLE, 'Must be a whole number.').pipe(
    z.number().min(0, 'Must be 0 or more.').max(10_000_000_000, 'Must be at most 10,000,000,000.'),
  ),
  latitude: numberCell(DECIMAL, 'Must be a number.').pipe(
    z.number().min(-90, 'Must be between -90 and 90.').max(90, 'Must be between -90 and 90.'),
  ),
  longitude: numberCell(DECIMAL, 'Must be a number.').pipe(
    z.number().min(-180, 'Must be between -180 and 180.').max(180, 'Must be between -180 and 180.'),
  ),
})
export type ImportRow = z.infer<typeof ImportRow>

/**
 * Validates one record's cells (in the file's column order, `columns` from its header). Returns
 * the row, or a reason naming every invalid column: `population: Must be a whole number.`.
 */
export function parseImportRow(
  cells: readonly string[],
  columns: readonly ImportColumn[],
): { ok: true; row: ImportRow } | { ok: false; reason: string } {
  if (cells.length !== columns.length) {
    return { ok: false, reason: `Expected ${columns.length} fields, found ${cells.length}.` }
  }
  const record: Record<string, string> = {}
  columns.forEach((column, i) => (record[column] = cells[i]!))
  const parsed = ImportRow.safeParse(record)
  if (parsed.success) return { ok: true, row: parsed.data }
  const reasons = new Map<string, string>()
  for (const issue of parsed.error.issues) {
    const column = String(issue.path[0] ?? 'row')
    if (!reasons.has(column)) reasons.set(column, `${column}: ${issue.message}`)
  }
  // Report in the header's order, so a reason reads like the row.
  const ordered = columns.filter((c) => reasons.has(c)).map((c) => reasons.get(c)!)
  return { ok: false, reason: ordered.join(' ') }
}

/**
 * Checks a header record: the import's columns, each once, in any order (names are trimmed and
 * compared case-insensitively). Returns them in file order, or a message for the form's field.
 */
export function checkImportHeader(
  header: readonly string[],
): { ok: true; columns: ImportColumn[] } | { ok: false; message: string } {
  const names = header.map((h) => h.trim().toLowerCase())
  const known = new Set<string>(IMPORT_COLUMNS)
  const missing = IMPORT_COLUMNS.filter((c) => !names.includes(c))
  const unexpected = names.filter((n) => !known.has(n))
  const repeated = names.filter((n, i) => names.indexOf(n) !== i)
  if (missing.length || unexpected.length || repeated.length) {
    const details = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unexpected.length ? `unexpected ${unexpected.map((n) => (n === '' ? '(empty)' : n)).join(', ')}` : '',
      repeated.length ? `repeated ${[...new Set(repeated)].join(', ')}` : '',
    ].filter(Boolean)
    return {
      ok: false,
      message: `The first row must be the header ${IMPORT_COLUMNS.join(',')} (${details.join('; ')}).`,
    }
  }
  return { ok: true, columns: names as ImportColumn[] }
}
