/**
 * Every environment variable the product reads, in one schema per process, parsed once with zod.
 * Add a variable to the schema of the tier that reads it (both read it: `shared`) and to the README's
 * "Environment variables" table (env.test.ts checks the two agree); read it through `webEnv()`,
 * `workerEnv()` or `toolingEnv()`. Nothing else in app/, lib/, workers/, scripts/, proxy.ts or
 * next.config.ts reads `process.env` (ESLint fails on it). The test harness (test/, e2e/, bench/,
 * playwright.config.ts) may: its knobs configure the harness, not the product.
 *
 * - `shared`: read by both tiers.       - `web`: read only by the Next.js tier (pages, actions, proxy.ts).
 * - `worker`: read only by the worker.  - `tooling`: the dev scripts and next.config.ts, which run
 *   before any database exists and must not need the tiers' variables.
 * A tier never requires another tier's keys. A bad environment fails with ONE error that names every
 * bad key. The schemas are plain zod, not @t3-oss/env-core: we have no browser variables (the
 * browser gets REALTIME_URL from /api/realtime-token), and a rule across keys (SESSION_SECRET in
 * production) belongs in the same error. It lives in lib/server/ because it holds secrets: the lint
 * rule that keeps lib/server out of client code keeps it out of the browser too.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

// Each helper gives its schema one message (zod applies it to every issue of that schema), naming the variable.
const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a port number (1 to 65535).` })
    .int()
    .min(1)
    .max(65535)

const wholeNumber = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number from ${min} to ${max}.` })
    .int()
    .min(min)
    .max(max)

const positiveWholeNumber = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a positive whole number.` })
    .int()
    .positive()

/** A positive number in `unit`, fractions allowed (`0.5`). */
const positiveNumber = (name: string, unit: string) =>
  z.coerce.number({ error: `${name} must be a positive number of ${unit}.` }).positive()

/**
 * `APP_ORIGIN`'s parser: a comma-separated list of http(s) origins (`scheme://host[:port]`, a
 * trailing `/` tolerated), each normalised as browsers send it in `Origin`. Names every bad entry.
 */
export const OriginList = z.string().transform((raw, ctx) => {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'APP_ORIGIN must name at least one origin.' })
  const origins: string[] = []
  for (const entry of entries) {
    const url = URL.parse(entry)
    const isOrigin =
      url !== null &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      !url.username &&
      !url.password &&
      url.pathname === '/' &&
      !/[?#]/.test(entry)
    if (!isOrigin)
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is not an http(s) origin (scheme://host[:port], no path, query or credentials).`,
      })
    else if (!origins.includes(url.origin)) origins.push(url.origin)
  }
  return origins
})

/** Variables both tiers read. */
export const sharedSchema = {
  /** Which build runs: `development` (default), `production` (SESSION_SECRET required) or `test`. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /**
   * PostgreSQL connection string (`postgres://` or `postgresql://`). Required; `npm run dev` and the
   * tests set it to the embedded server when unset.
   */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// connection string.' }),
  /**
   * Key that signs session cookies and realtime tokens (HS256), at least 32 characters, the same on
   * both tiers. Required in production; in development and tests generated into `.data/session-secret`.
   */
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters.').optional(),
  /**
   * Hours a finished export can be downloaded (fractions allowed); default 24. The web tier answers
   * 410 Gone after it, the worker's retention deletes the file.
   */
  EXPORT_FILE_TTL_HOURS: positiveNumber('EXPORT_FILE_TTL_HOURS', 'hours').default(24),
  /**
   * `smtp://` or `smtps://` URL the email example sends through; unset (default) records messages
   * without sending. The worker sends; the web tier's /emails page says which mode is on.
   */
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'SMTP_URL must be an smtp:// or smtps:// URL.' }).optional(),
}

/** Variables only the Next.js tier reads. */
export const webSchema = {
  /** URL browsers use to reach the socket.io server; default `http://localhost:3001`. */
  REALTIME_URL: z.url({ error: 'REALTIME_URL must be a URL.' }).default('http://localhost:3001'),
  /** Password of the operator view (/admin), at least 12 characters; unset (default) turns the view off. */
  ADMIN_PASSWORD: z.string().min(12, 'ADMIN_PASSWORD must be at least 12 characters.').optional(),
  /** Most exports one viewer may have queued or running at once; default 5. */
  EXPORT_LIMIT_PER_VIEWER: positiveWholeNumber('EXPORT_LIMIT_PER_VIEWER').default(5),
  /** Largest CSV file an import accepts, in bytes; default 52,428,800 (50 MiB). */
  IMPORT_MAX_BYTES: positiveWholeNumber('IMPORT_MAX_BYTES').default(50 * 1024 * 1024),
  /** Most imports one viewer may have queued or running at once; default 3. */
  IMPORT_LIMIT_PER_VIEWER: positiveWholeNumber('IMPORT_LIMIT_PER_VIEWER').default(3),
  /**
   * How many reverse proxies in front of the web tier append the client's address to
   * `x-forwarded-for` (Vercel, or nginx with `$proxy_add_x_forwarded_for`: 1), 0 to 10. Default 0:
   * the header is not trusted, because a client that reaches Next.js directly can write it itself.
   * Read by the operator sign-in limit (`clientAddress`, lib/server/login-throttle.ts).
   */
  TRUST_PROXY_HOPS: wholeNumber('TRUST_PROXY_HOPS', 0, 10).default(0),
  /**
   * Connections of the web tier's pool per web process, 1 to 100; default 10. How to size it:
   * `webPoolOptions` in lib/server/db.ts.
   */
  WEB_POOL_MAX: wholeNumber('WEB_POOL_MAX', 1, 100).default(10),
}

/** Variables only the worker reads. */
export const workerSchema = {
  /** Port the worker's socket.io server listens on; default 3001. */
  REALTIME_PORT: port('REALTIME_PORT').default(3001),
  /**
   * Origins whose pages may open sockets (checked on every handshake, sent as CORS headers),
   * comma-separated; parsed into a list. Default `http://localhost:3000`.
   */
  APP_ORIGIN: OriginList.default(['http://localhost:3000']),
  /** Most rows one export writes per second, so a large export cannot monopolise the database; unset (default): no cap. */
  EXPORT_ROWS_PER_SECOND: positiveWholeNumber('EXPORT_ROWS_PER_SECOND').optional(),
  /** Most rows one import reads per second; unset (default): no cap. */
  IMPORT_ROWS_PER_SECOND: positiveWholeNumber('IMPORT_ROWS_PER_SECOND').optional(),
  /** Days a settled job, with its timeline, files and emails, is kept (fractions allowed); default 30. */
  JOB_RETENTION_DAYS: positiveNumber('JOB_RETENTION_DAYS', 'days').default(30),
  /** Sender of the email example; default `Background jobs <no-reply@example.com>`. */
  MAIL_FROM: z.string().default('Background jobs <no-reply@example.com>'),
}

/** Variables of the dev scripts (scripts/) and next.config.ts; no tier reads them. */
export const toolingSchema = {
  /** As the tiers' DATABASE_URL, but optional: unset, the scripts start an embedded PostgreSQL. */
  DATABASE_URL: sharedSchema.DATABASE_URL.optional(),
  /** Port of the embedded PostgreSQL; default 54329 (dev), 54339 (tests), 54349 (bench). */
  EMBEDDED_PG_PORT: port('EMBEDDED_PG_PORT').optional(),
  /** Data folder of the embedded PostgreSQL; default `.data/postgres`, `.data/postgres-test`, `.data/postgres-bench`. */
  EMBEDDED_PG_DIR: z.string().optional(),
  /** Next.js build folder (`distDir`); default `.next` (`npm run dev` sets `.next-dev`, the e2e tests `.next-e2e`). */
  NEXT_DIST_DIR: z.string().default('.next'),
}

type Parsed<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>
type WithSecret<T> = Omit<T, 'SESSION_SECRET'> & { SESSION_SECRET: string }
/** The web tier's environment: `shared` and `web` keys. */
export type WebEnv = WithSecret<Parsed<typeof sharedSchema & typeof webSchema>>
/** The worker's environment: `shared` and `worker` keys. */
export type WorkerEnv = WithSecret<Parsed<typeof sharedSchema & typeof workerSchema>>
/** The dev scripts' environment. */
export type ToolingEnv = Parsed<typeof toolingSchema>

/** What the process was started with; a blank value counts as unset, so `KEY=` falls back to the default. */
type Source = Record<string, string | undefined>

/**
 * Parses `source` against `shape`. Throws one `Error` listing every bad key (`  KEY: message`),
 * SESSION_SECRET's production rule included, and pointing at the README's table.
 */
export function parseEnv<S extends z.ZodRawShape>(shape: S, source: Source): Parsed<S> {
  const input = Object.fromEntries(
    Object.keys(shape).map((key) => [key, source[key]?.trim() ? source[key] : undefined]),
  )
  const result = z.object(shape).safeParse(input)
  const problems = (result.error?.issues ?? []).map((i) => `  ${i.path.map(String).join('.')}: ${i.message}`)
  if ('SESSION_SECRET' in shape && input.NODE_ENV === 'production' && input.SESSION_SECRET === undefined)
    problems.push(
      '  SESSION_SECRET: SESSION_SECRET is required in production: set it to a random string of at least 32 characters (for example `openssl rand -base64 48`).',
    )
  if (problems.length)
    throw new Error(
      `Invalid environment variables:\n${problems.join('\n')}\nSee the README's "Environment variables" table.`,
    )
  return result.data!
}

/** Parses a tier's keys and fills in a development SESSION_SECRET (production already refused a missing one). */
function parseTier<S extends z.ZodRawShape>(shape: S): WithSecret<Parsed<S>> {
  const parsed = parseEnv(shape, process.env) as Parsed<S> & { SESSION_SECRET?: string }
  return { ...parsed, SESSION_SECRET: parsed.SESSION_SECRET ?? devSessionSecret() }
}

let web: WebEnv | undefined
let worker: WorkerEnv | undefined
let tooling: ToolingEnv | undefined

/** The web tier's environment, parsed on first call and kept. Throws naming every bad key. */
export function webEnv(): WebEnv {
  return (web ??= parseTier({ ...sharedSchema, ...webSchema }))
}

/** The worker's environment, parsed on first call and kept. Throws naming every bad key. */
export function workerEnv(): WorkerEnv {
  return (worker ??= parseTier({ ...sharedSchema, ...workerSchema }))
}

/** The dev scripts' (and next.config.ts's) environment, parsed on first call and kept. */
export function toolingEnv(): ToolingEnv {
  return (tooling ??= parseEnv(toolingSchema, process.env))
}

/**
 * The environment a script hands to a child process (`next dev`, the worker, a test command): this
 * process's own, every variable passed on untouched, with `overrides` on top.
 */
export function childProcessEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides }
}

/**
 * Development and tests: one generated SESSION_SECRET kept in `.data/session-secret`, so the web and
 * worker processes (started separately) sign and verify with the same key.
 */
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
