import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const DATABASE_URL = 'postgres://127.0.0.1:5432/nbj_env_test'

/** A fresh copy of ./env: `env()` is memoised per module instance. */
async function freshEnv() {
  vi.resetModules()
  return import('./env')
}

describe('env(): SESSION_SECRET', () => {
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

  it('refuses to start in production without it, with a message that says what to set', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv('SESSION_SECRET', undefined)
    const { env } = await freshEnv()
    expect(() => env()).toThrow(
      'SESSION_SECRET is required in production: set it to a random string of at least 32 characters',
    )
    expect(() => readFileSync(path.join(dir, '.data', 'session-secret'))).toThrow(/ENOENT/)
  })

  it('refuses an empty one in production too', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv('SESSION_SECRET', '')
    const { env } = await freshEnv()
    expect(() => env()).toThrow(/SESSION_SECRET is required in production/)
  })

  it.each(['production', 'development'])(
    'refuses a secret shorter than 32 characters in %s, naming the variable',
    async (nodeEnv) => {
      vi.stubEnv('NODE_ENV', nodeEnv)
      vi.stubEnv('SESSION_SECRET', 'x'.repeat(31))
      const { env } = await freshEnv()
      expect(() => env()).toThrow(/SESSION_SECRET: SESSION_SECRET must be at least 32 characters/)
    },
  )

  it('uses the secret it is given in production', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv('SESSION_SECRET', 'p'.repeat(32))
    const { env } = await freshEnv()
    expect(env().SESSION_SECRET).toBe('p'.repeat(32))
  })

  it('generates one in development, keeps it in .data/session-secret (owner-only) and reuses it next start', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    vi.stubEnv('SESSION_SECRET', undefined)
    const first = (await freshEnv()).env().SESSION_SECRET
    expect(first.length).toBeGreaterThanOrEqual(32)
    const file = path.join(dir, '.data', 'session-secret')
    expect(readFileSync(file, 'utf8')).toBe(first)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // Another process (the worker) starting later must sign with the same key.
    expect((await freshEnv()).env().SESSION_SECRET).toBe(first)
  })

  it('reads the secret another process already generated in development', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    vi.stubEnv('SESSION_SECRET', undefined)
    mkdirSync(path.join(dir, '.data'))
    writeFileSync(path.join(dir, '.data', 'session-secret'), `${'k'.repeat(40)}\n`)
    expect((await freshEnv()).env().SESSION_SECRET).toBe('k'.repeat(40))
  })
})

describe('exportFileTtlHours (EXPORT_FILE_TTL_HOURS)', () => {
  afterEach(() => vi.unstubAllEnvs())

  it('defaults to 24 hours', async () => {
    vi.stubEnv('EXPORT_FILE_TTL_HOURS', undefined)
    const { exportFileTtlHours, DEFAULT_EXPORT_FILE_TTL_HOURS } = await freshEnv()
    expect(exportFileTtlHours()).toBe(24)
    expect(DEFAULT_EXPORT_FILE_TTL_HOURS).toBe(24)
    vi.stubEnv('EXPORT_FILE_TTL_HOURS', ' ')
    expect(exportFileTtlHours()).toBe(24)
  })

  it.each([
    ['1', 1],
    ['0.5', 0.5],
    ['168', 168],
  ])('reads %j as %d hours', async (raw, hours) => {
    vi.stubEnv('EXPORT_FILE_TTL_HOURS', raw)
    expect((await freshEnv()).exportFileTtlHours()).toBe(hours)
  })

  it.each(['0', '-1', 'abc', 'Infinity', '1h'])('refuses %j, naming the variable', async (raw) => {
    vi.stubEnv('EXPORT_FILE_TTL_HOURS', raw)
    const { exportFileTtlHours } = await freshEnv()
    expect(() => exportFileTtlHours()).toThrow('EXPORT_FILE_TTL_HOURS must be a positive number of hours.')
  })
})
