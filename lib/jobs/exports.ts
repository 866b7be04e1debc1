/**
 * The `exports` queue contract: what a user asks for and what a finished export returns.
 * Shared by the `startExport` action (web tier) and `ExportQueue` (worker tier).
 */
import { z } from 'zod'

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
