/**
 * The `exports` queue contract: what a user asks for, what a finished export returns, its title
 * and how its result is shown. Shared by the `startExport` action (web tier), `ExportQueue`
 * (worker tier) and the job card. Registered in lib/jobs/registry.ts.
 *
 * Why the result renderer lives here, in the contract file (hence `.tsx`): its argument is typed
 * by the result schema above it with no annotation, and adding a queue stays "contract, handler,
 * registry line, action". The cost is that the worker loads `react/jsx-runtime` with the contracts
 * (a few kB, never called there); keep renderers plain functions of the result, free of hooks and
 * server-only imports, so this file stays importable by the worker, tests and client components.
 */
import { z } from 'zod'
import { defineQueue } from './queue'

export const EXPORTS_QUEUE = 'exports'

/** Empty or whitespace-only form fields mean "no filter". */
const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value

/**
 * What to export from `app.cities`. Stored as the job's payload and re-parsed by the worker.
 * - `nameContains`: case-insensitive substring of the city's name (1-100 characters).
 * - `country`: ISO 3166-1 alpha-2 code, exact match, stored upper-case.
 * - `minPopulation`: inclusive lower bound, whole number from 0 to 10,000,000,000.
 */
export const ExportItem = z.strictObject({
  nameContains: z.preprocess(
    blankToUndefined,
    z
      .string()
      .min(1)
      .max(100, 'Use at most 100 characters.')
      .refine((s) => !s.includes('\u0000'), 'Must not contain NUL characters.')
      .refine((s) => s.isWellFormed(), 'Must be valid text.')
      .optional(),
  ),
  country: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'Use a two-letter country code, like BR.')
      .transform((s) => s.toUpperCase())
      .optional(),
  ),
  minPopulation: z.preprocess(
    (value) => {
      const v = blankToUndefined(value)
      return typeof v === 'string' && /^[+-]?\d+(\.\d+)?$/.test(v) ? Number(v) : v
    },
    z
      .number({ error: 'Enter a whole number.' })
      .int('Enter a whole number.')
      .min(0, 'Must be 0 or more.')
      .max(10_000_000_000, 'Must be at most 10,000,000,000.')
      .optional(),
  ),
})
export type ExportItem = z.infer<typeof ExportItem>

/** What a completed export returns. `downloadUrl` is served to the job's owner only. */
export const ExportResult = z.object({
  fileName: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  downloadUrl: z.string(),
  /** When the download stops working (EXPORT_FILE_TTL_HOURS after completion), ISO time. */
  expiresAt: z.string().optional(),
})
export type ExportResult = z.infer<typeof ExportResult>

const numbers = new Intl.NumberFormat('en-US')

/** "12 kB", "3.4 MB": file sizes as people read them (powers of 1,000). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 1 : 0 })} ${units[unit]}`
}

/** "Cities · “san” · BR · pop. ≥ 5,000"; avoids the form's labels so those stay unique accessible names. */
function exportTitle(item: ExportItem): string {
  const parts = ['Cities']
  if (item.nameContains) parts.push(`“${item.nameContains}”`)
  if (item.country) parts.push(item.country)
  if (item.minPopulation !== undefined) parts.push(`pop. ≥ ${numbers.format(item.minPopulation)}`)
  if (parts.length === 1) parts.push('all of them')
  return parts.join(' · ')
}

/** The `exports` queue: cities matching a query, written as a CSV file the owner downloads. */
export const exportsQueue = defineQueue({
  name: EXPORTS_QUEUE,
  label: 'Export',
  payload: ExportItem,
  result: ExportResult,
  title: exportTitle,
  options: { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 },
  download: (result) => ({
    href: result.downloadUrl,
    fileName: result.fileName,
    expiresAt: result.expiresAt,
    detail: `${numbers.format(result.rows)} rows`,
  }),
  renderResult: (result) => (
    <p>
      {numbers.format(result.rows)} {result.rows === 1 ? 'row' : 'rows'} in {result.fileName} (
      {formatBytes(result.bytes)})
    </p>
  ),
})
