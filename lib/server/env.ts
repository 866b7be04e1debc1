/**
 * Environment variables, parsed once with zod (through @t3-oss/env-core) on first use.
 * Add a variable here, to the README's table, and nowhere else. Do not read process.env elsewhere.
 */
import { createEnv } from '@t3-oss/env-core'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

/** Default of `IMPORT_MAX_BYTES`: 50 MiB. */
export const DEFAULT_IMPORT_MAX_BYTES = 50 * 1024 * 1024

const port = z.coerce.number().int().min(1).max(65535)

function parseEnv() {
  return createEnv({
    server: {
      NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
      /** PostgreSQL connection string. `npm run dev` and the tests set it to the embedded server when unset. */
      DATABASE_URL: z.url({
        protocol: /^postgres(ql)?$/,
        error: 'DATABASE_URL must be a postgres:// connection string.',
      }),
      /** Key that signs session cookies and realtime tokens (HS256), at least 32 characters. Required in production. */
      SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters.').optional(),
      /** Port the worker's socket.io server listens on. Default 3001. */
      REALTIME_PORT: port.default(3001),
      /** URL browsers use to reach the socket.io server. Default http://localhost:3001. */
      REALTIME_URL: z.url().default('http://localhost:3001'),
      /** Origin(s) of the web app allowed to open sockets (CORS), comma-separated. Default http://localhost:3000. */
      APP_ORIGIN: z.string().default('http://localhost:3000'),
      /** Password of the operator view (/admin). Unset disables it. At least 12 characters. */
      ADMIN_PASSWORD: z.string().min(12, 'ADMIN_PASSWORD must be at least 12 characters.').optional(),
      /** Most exports one viewer may have queued or running at once. Default 5. */
      EXPORT_LIMIT_PER_VIEWER: z.coerce.number().int().min(1).default(5),
      /** Largest CSV file an import accepts, in bytes. Default 52,428,800 (50 MiB). */
      IMPORT_MAX_BYTES: z.coerce.number().int().min(1).default(DEFAULT_IMPORT_MAX_BYTES),
      /** Most imports one viewer may have queued or running at once. Default 3. */
      IMPORT_LIMIT_PER_VIEWER: z.coerce.number().int().min(1).default(3),
    },
    runtimeEnv: process.env,
    emptyStringAsUndefined: true,
    onValidationError: (issues) => {
      const lines = issues.map((i) => `  ${i.path?.map(String).join('.') ?? '?'}: ${i.message}`)
      throw new Error(
        `Invalid environment variables:\n${lines.join('\n')}\nSee the README's "Environment variables" table.`,
      )
    },
  })
}

/**
 * `EXPORT_ROWS_PER_SECOND`: most rows one export writes per second, so a large export cannot
 * monopolise the database; unset means no cap. Parsed on its own so the worker's queues can read
 * it without the web tier's variables. Throws on a value that is not a positive whole number.
 */
export function exportRowsPerSecond(): number | undefined {
  const raw = process.env.EXPORT_ROWS_PER_SECOND
  if (raw === undefined || raw === '') return undefined
  const parsed = z.coerce.number().int().positive().safeParse(raw)
  if (!parsed.success) throw new Error('EXPORT_ROWS_PER_SECOND must be a positive whole number.')
  return parsed.data
}

/**
 * `WEB_POOL_MAX`: connections of the web tier's pool, per web process (default 10; see
 * `webPoolOptions` in lib/server/db.ts for how to size it). Parsed on its own so tests can build a
 * pool exactly like the web tier's without the web tier's other variables. Throws on a value that
 * is not a whole number from 1 to 100.
 */
export function webPoolMax(): number {
  const raw = process.env.WEB_POOL_MAX
  if (raw === undefined || raw === '') return 10
  const parsed = z.coerce.number().int().min(1).max(100).safeParse(raw)
  if (!parsed.success) throw new Error('WEB_POOL_MAX must be a whole number from 1 to 100.')
  return parsed.data
}

/**
 * `TRUST_PROXY_HOPS`: how many reverse proxies in front of the web tier append the client's
 * address to `x-forwarded-for` (Vercel, or nginx with `$proxy_add_x_forwarded_for`: 1). Default 0:
 * the header is not trusted at all, because a client that reaches Next.js directly can write it
 * itself. Read by `clientAddress` (lib/server/login-throttle.ts). Throws unless 0 to 10.
 */
export function trustedProxyHops(): number {
  const raw = process.env.TRUST_PROXY_HOPS
  if (raw === undefined || raw === '') return 0
  const parsed = z.coerce.number().int().min(0).max(10).safeParse(raw)
  if (!parsed.success) throw new Error('TRUST_PROXY_HOPS must be a whole number from 0 to 10.')
  return parsed.data
}

/**
 * `IMPORT_ROWS_PER_SECOND`: most rows one import reads per second (unset: no cap), read by the
 * worker like `EXPORT_ROWS_PER_SECOND`. Throws on a value that is not a positive whole number.
 */
export function importRowsPerSecond(): number | undefined {
  const raw = process.env.IMPORT_ROWS_PER_SECOND
  if (raw === undefined || raw === '') return undefined
  const parsed = z.coerce.number().int().positive().safeParse(raw)
  if (!parsed.success) throw new Error('IMPORT_ROWS_PER_SECOND must be a positive whole number.')
  return parsed.data
}

/**
 * Mail settings, read by the worker's deferred actions. `SMTP_URL` (for example
 * `smtps://user:pass@smtp.example.com`) sends for real; unset records messages without sending.
 * `MAIL_FROM` is the sender, default `Background jobs <no-reply@example.com>`.
 */
export function mailSettings(): { smtpUrl: string | undefined; from: string } {
  const smtpUrl = z
    .url({ protocol: /^smtps?$/ })
    .optional()
    .safeParse(process.env.SMTP_URL || undefined)
  if (!smtpUrl.success) throw new Error('SMTP_URL must be an smtp:// or smtps:// URL.')
  return { smtpUrl: smtpUrl.data, from: process.env.MAIL_FROM || 'Background jobs <no-reply@example.com>' }
}

/** Default of `EXPORT_FILE_TTL_HOURS`: a finished export can be downloaded for a day. */
export const DEFAULT_EXPORT_FILE_TTL_HOURS = 24

/**
 * `EXPORT_FILE_TTL_HOURS`: how long after its job completed an export file can be downloaded, in
 * hours (fractions allowed, default 24). After that `/downloads/:id` answers 410 Gone and deletes
 * the file. Parsed on its own, like `exportRowsPerSecond`, so the worker tier can read it too
 * (to sweep expired files). Throws on a value that is not a positive number.
 */
export function exportFileTtlHours(): number {
  const raw = process.env.EXPORT_FILE_TTL_HOURS
  if (raw === undefined || raw.trim() === '') return DEFAULT_EXPORT_FILE_TTL_HOURS
  const parsed = z.coerce.number().positive().safeParse(raw)
  if (!parsed.success) throw new Error('EXPORT_FILE_TTL_HOURS must be a positive number of hours.')
  return parsed.data
}

export type ServerEnv = ReturnType<typeof parseEnv> & { SESSION_SECRET: string }

let cached: ServerEnv | undefined

/**
 * The parsed environment. Throws an `Error` naming every invalid variable on first call.
 * In development and tests a missing `SESSION_SECRET` is generated once and kept in
 * `.data/session-secret`, so the web and worker processes share it; in production it is required.
 */
export function env(): ServerEnv {
  if (cached) return cached
  const parsed = parseEnv()
  let secret = parsed.SESSION_SECRET
  if (!secret) {
    if (parsed.NODE_ENV === 'production') {
      throw new Error(
        'SESSION_SECRET is required in production: set it to a random string of at least 32 characters (for example `openssl rand -base64 48`).',
      )
    }
    secret = devSessionSecret()
  }
  cached = { ...parsed, SESSION_SECRET: secret }
  return cached
}

function devSessionSecret(): string {
  const file = path.join(process.cwd(), '.data', 'session-secret')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    mkdirSync(path.dirname(file), { recursive: true })
    const secret = randomBytes(48).toString('base64url')
    // 'wx' fails if another process created it first; then read theirs so both tiers agree.
    try {
      writeFileSync(file, secret, { flag: 'wx', mode: 0o600 })
      return secret
    } catch {
      return readFileSync(file, 'utf8').trim()
    }
  }
}
