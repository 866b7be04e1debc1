import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { OriginList, parseEnv, sharedSchema, toolingSchema, webSchema, workerSchema } from './env'

const DATABASE_URL = 'postgres://127.0.0.1:5432/nbj_env_test'
const SECRET = 's'.repeat(32)
const web = { ...sharedSchema, ...webSchema }
const worker = { ...sharedSchema, ...workerSchema }

/** A fresh copy of ./env: `webEnv()` and `workerEnv()` are memoised per module instance. */
async function freshEnv() {
  vi.resetModules()
  return import('./env')
}

/** The message `parseEnv` throws for `source`, or '' when it parses. */
function failure(shape: Parameters<typeof parseEnv>[0], source: Record<string, string>): string {
  try {
    parseEnv(shape, source)
    return ''
  } catch (err) {
    return (err as Error).message
  }
}

describe('a bad environment', () => {
  it('fails with one error that names every bad key, not the first only', () => {
    const message = failure(web, {
      DATABASE_URL: 'mysql://db/app',
      SESSION_SECRET: 'too-short',
      IMPORT_MAX_BYTES: '50MB',
      TRUST_PROXY_HOPS: '11',
      ADMIN_PASSWORD: 'short',
    })
    expect(message.split('\n')).toEqual([
      'Invalid environment variables:',
      '  DATABASE_URL: DATABASE_URL must be a postgres:// connection string.',
      '  SESSION_SECRET: SESSION_SECRET must be at least 32 characters.',
      '  ADMIN_PASSWORD: ADMIN_PASSWORD must be at least 12 characters.',
      '  IMPORT_MAX_BYTES: IMPORT_MAX_BYTES must be a positive whole number.',
      '  TRUST_PROXY_HOPS: TRUST_PROXY_HOPS must be a whole number from 0 to 10.',
      `See the README's "Environment variables" table.`,
    ])
  })

  it("names a missing production SESSION_SECRET in the same error as the other keys' problems", () => {
    const message = failure(worker, { NODE_ENV: 'production', DATABASE_URL, REALTIME_PORT: '70000' })
    expect(message).toContain('  REALTIME_PORT: REALTIME_PORT must be a port number (1 to 65535).')
    expect(message).toContain('  SESSION_SECRET: SESSION_SECRET is required in production')
  })

  it('names a missing DATABASE_URL', () => {
    expect(failure(web, {})).toContain('  DATABASE_URL: DATABASE_URL must be a postgres:// connection string.')
  })

  it.each([
    ['EXPORT_ROWS_PER_SECOND', '0', 'EXPORT_ROWS_PER_SECOND must be a positive whole number.'],
    ['IMPORT_ROWS_PER_SECOND', '1.5', 'IMPORT_ROWS_PER_SECOND must be a positive whole number.'],
    ['JOB_RETENTION_DAYS', '-1', 'JOB_RETENTION_DAYS must be a positive number of days.'],
    ['SMTP_URL', 'http://mail.example.com', 'SMTP_URL must be an smtp:// or smtps:// URL.'],
  ])('refuses %s=%j, saying what it must be', (key, value, expected) => {
    expect(failure(worker, { DATABASE_URL, SESSION_SECRET: SECRET, [key]: value })).toContain(`  ${key}: ${expected}`)
  })
})

describe('one schema per tier', () => {
  const workerKeysAllBad = {
    REALTIME_PORT: 'x',
    APP_ORIGIN: 'not an origin',
    EXPORT_ROWS_PER_SECOND: '-5',
    JOB_RETENTION_DAYS: 'forever',
  }
  const webKeysAllBad = { ADMIN_PASSWORD: 'short', WEB_POOL_MAX: '0', TRUST_PROXY_HOPS: 'all', IMPORT_MAX_BYTES: '1e' }

  it('the web tier starts without any worker key, and ignores bad ones', () => {
    const env = parseEnv(web, { DATABASE_URL, SESSION_SECRET: SECRET, ...workerKeysAllBad })
    expect(env.DATABASE_URL).toBe(DATABASE_URL)
    expect(env).not.toHaveProperty('REALTIME_PORT')
    expect(env).not.toHaveProperty('APP_ORIGIN')
  })

  it('the worker starts without any web key, and ignores bad ones', () => {
    const env = parseEnv(worker, { DATABASE_URL, SESSION_SECRET: SECRET, ...webKeysAllBad })
    expect(env.REALTIME_PORT).toBe(3001)
    expect(env).not.toHaveProperty('ADMIN_PASSWORD')
    expect(env).not.toHaveProperty('WEB_POOL_MAX')
  })

  it('the scripts need neither tier: no DATABASE_URL means the embedded server', () => {
    expect(parseEnv(toolingSchema, { ...workerKeysAllBad, ...webKeysAllBad })).toEqual({ NEXT_DIST_DIR: '.next' })
  })

  it('a key both tiers read is checked by both', () => {
    for (const shape of [web, worker])
      expect(failure(shape, { DATABASE_URL, EXPORT_FILE_TTL_HOURS: '0' })).toContain(
        'EXPORT_FILE_TTL_HOURS must be a positive number of hours.',
      )
  })
})

describe('defaults', () => {
  it('fill every key left unset, or set blank', () => {
    for (const blank of [{}, Object.fromEntries(Object.keys({ ...web, ...worker }).map((k) => [k, ' ']))]) {
      expect(parseEnv(web, { ...blank, DATABASE_URL, SESSION_SECRET: SECRET })).toEqual({
        NODE_ENV: 'development',
        DATABASE_URL,
        SESSION_SECRET: SECRET,
        EXPORT_FILE_TTL_HOURS: 24,
        REALTIME_URL: 'http://localhost:3001',
        EXPORT_LIMIT_PER_VIEWER: 5,
        IMPORT_MAX_BYTES: 52_428_800,
        IMPORT_LIMIT_PER_VIEWER: 3,
        TRUST_PROXY_HOPS: 0,
        WEB_POOL_MAX: 10,
      })
      expect(parseEnv(worker, { ...blank, DATABASE_URL, SESSION_SECRET: SECRET })).toEqual({
        NODE_ENV: 'development',
        DATABASE_URL,
        SESSION_SECRET: SECRET,
        EXPORT_FILE_TTL_HOURS: 24,
        REALTIME_PORT: 3001,
        APP_ORIGIN: ['http://localhost:3000'],
        JOB_RETENTION_DAYS: 30,
        MAIL_FROM: 'Background jobs <no-reply@example.com>',
      })
    }
  })

  it.each([
    ['1', 1],
    ['0.5', 0.5],
    ['168', 168],
  ])('reads EXPORT_FILE_TTL_HOURS=%j as %d hours', (raw, hours) => {
    expect(parseEnv(worker, { DATABASE_URL, EXPORT_FILE_TTL_HOURS: raw }).EXPORT_FILE_TTL_HOURS).toBe(hours)
  })

  it.each(['0', '-1', 'abc', 'Infinity', '1h'])('refuses EXPORT_FILE_TTL_HOURS=%j', (raw) => {
    expect(failure(web, { DATABASE_URL, EXPORT_FILE_TTL_HOURS: raw })).toContain(
      '  EXPORT_FILE_TTL_HOURS: EXPORT_FILE_TTL_HOURS must be a positive number of hours.',
    )
  })
})

describe('APP_ORIGIN', () => {
  it('is a list of origins, as browsers send them in the Origin header', () => {
    expect(OriginList.parse('https://app.example.com, http://localhost:3000/ ,https://APP.example.com:443')).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ])
    expect(OriginList.parse('http://127.0.0.1:4010')).toEqual(['http://127.0.0.1:4010'])
  })

  it('names every entry that is not an origin, in the one error', () => {
    const message = failure(worker, {
      DATABASE_URL,
      APP_ORIGIN: 'https://ok.example.com,https://app.example.com/dashboard,ftp://files.example.com,localhost:3000',
      REALTIME_PORT: '0',
    })
    const lines = message.split('\n')
    expect(lines).toContain(
      '  APP_ORIGIN: "https://app.example.com/dashboard" is not an http(s) origin (scheme://host[:port], no path, query or credentials).',
    )
    expect(lines.filter((l) => l.startsWith('  APP_ORIGIN: "ftp://files.example.com"'))).toHaveLength(1)
    expect(lines.filter((l) => l.startsWith('  APP_ORIGIN: "localhost:3000"'))).toHaveLength(1)
    expect(lines.some((l) => l.includes('ok.example.com'))).toBe(false)
    expect(lines).toContain('  REALTIME_PORT: REALTIME_PORT must be a port number (1 to 65535).')
  })

  it.each([
    'https://app.example.com?x=1',
    'https://app.example.com#top',
    'https://user:pw@app.example.com',
    'not a url',
  ])('refuses %j', (entry) => {
    expect(OriginList.safeParse(entry).success).toBe(false)
  })

  it('refuses a list of commas', () => {
    expect(failure(worker, { DATABASE_URL, APP_ORIGIN: ' , ,' })).toContain(
      '  APP_ORIGIN: APP_ORIGIN must name at least one origin.',
    )
  })
})

describe('webEnv() and workerEnv(): SESSION_SECRET', () => {
  const cwd = process.cwd()
  let dir: string

  beforeEach(() => {
    // Runs in an empty folder, so a real .data/session-secret is never read, replaced or created.
    dir = mkdtempSync(path.join(tmpdir(), 'nbj-env-'))
    process.chdir(dir)
    vi.stubEnv('DATABASE_URL', DATABASE_URL)
  })

  afterEach(() => {
    process.chdir(cwd)
    vi.unstubAllEnvs()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each(['webEnv', 'workerEnv'] as const)(
    '%s refuses to start in production without it, with a message that says what to set',
    async (tier) => {
      vi.stubEnv('NODE_ENV', 'production')
      vi.stubEnv('SESSION_SECRET', undefined)
      const env = await freshEnv()
      expect(() => env[tier]()).toThrow(
        'SESSION_SECRET is required in production: set it to a random string of at least 32 characters',
      )
      expect(() => readFileSync(path.join(dir, '.data', 'session-secret'))).toThrow(/ENOENT/)
    },
  )

  it('refuses an empty one in production too', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv('SESSION_SECRET', '')
    const { webEnv } = await freshEnv()
    expect(() => webEnv()).toThrow(/SESSION_SECRET is required in production/)
  })

  it.each(['production', 'development'])(
    'refuses a secret shorter than 32 characters in %s, naming the variable',
    async (nodeEnv) => {
      vi.stubEnv('NODE_ENV', nodeEnv)
      vi.stubEnv('SESSION_SECRET', 'x'.repeat(31))
      const { workerEnv } = await freshEnv()
      expect(() => workerEnv()).toThrow(/SESSION_SECRET: SESSION_SECRET must be at least 32 characters/)
    },
  )

  it('uses the secret it is given in production, and parses the environment once', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv('SESSION_SECRET', 'p'.repeat(32))
    const { webEnv } = await freshEnv()
    const first = webEnv()
    expect(first.SESSION_SECRET).toBe('p'.repeat(32))
    vi.stubEnv('SESSION_SECRET', 'q'.repeat(32))
    expect(webEnv()).toBe(first)
  })

  it('generates one in development, keeps it in .data/session-secret (owner-only) and reuses it next start', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    vi.stubEnv('SESSION_SECRET', undefined)
    const first = (await freshEnv()).webEnv().SESSION_SECRET
    expect(first.length).toBeGreaterThanOrEqual(32)
    const file = path.join(dir, '.data', 'session-secret')
    expect(readFileSync(file, 'utf8')).toBe(first)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // The worker, starting later in its own process, must sign with the same key.
    expect((await freshEnv()).workerEnv().SESSION_SECRET).toBe(first)
  })

  it('reads the secret another process already generated in development', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    vi.stubEnv('SESSION_SECRET', undefined)
    mkdirSync(path.join(dir, '.data'))
    writeFileSync(path.join(dir, '.data', 'session-secret'), `${'k'.repeat(40)}\n`)
    expect((await freshEnv()).workerEnv().SESSION_SECRET).toBe('k'.repeat(40))
  })
})

describe("the README's Environment variables table", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Environment variables'))
  const table = section.slice(0, section.indexOf('\n## '))
  /** variable -> { tiers, default cell } for every row whose first cell is one `KEY` or `KEY` / `KEY`. */
  const rows = new Map<string, { tiers: string[]; defaults: string }>()
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    if (cells.length < 5 || !cells[1]?.startsWith('`')) continue
    for (const key of cells[1].match(/`([A-Z0-9_]+)`/g) ?? [])
      rows.set(key.slice(1, -1), { tiers: cells[2]!.split(',').map((t) => t.trim()), defaults: cells[3]! })
  }
  const schemas = { shared: sharedSchema, web: webSchema, worker: workerSchema, tooling: toolingSchema }
  const keys = [...new Set(Object.values(schemas).flatMap((s) => Object.keys(s)))]

  it.each(keys)('lists %s with the tiers whose schema has it, and its default', (key) => {
    const row = rows.get(key)
    expect(row, `README row for ${key}`).toBeDefined()
    const tiers = Object.entries(schemas)
      .filter(([, schema]) => key in schema)
      .map(([tier]) => tier)
    expect(row!.tiers.sort()).toEqual(tiers.sort())
    for (const tier of tiers) {
      const fallback = (schemas[tier as keyof typeof schemas] as Record<string, import('zod').ZodType>)[key]!.safeParse(
        undefined,
      ).data
      for (const value of [fallback].flat().filter((v) => v !== undefined))
        expect(row!.defaults, `default of ${key}`).toContain(`\`${String(value)}\``)
    }
  })

  it('lists nothing else, except the test harness knobs', () => {
    for (const [key, row] of rows) if (!keys.includes(key)) expect(row.tiers, key).toEqual(['test harness'])
  })
})
