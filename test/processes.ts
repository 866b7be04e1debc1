/**
 * Real child processes for fault-injection tests: a worker started the way production starts it
 * (`node --import tsx <entry>`, one process, so `kill -9` hits the worker itself and not a
 * launcher), with its output kept and searchable, and every child stopped in `stopAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')

export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  /** Everything written so far. */
  stdout(): string
  stderr(): string
  /** Resolves with the first stdout or stderr line (already written or not) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Whether the process is still running. */
  alive(): boolean
}

const children = new Set<Child>()

/**
 * Starts `entry` (a path relative to the repository root) in its own Node process with `env`
 * added to this process's environment. Output is echoed with `label` when `NBJ_TEST_ECHO` is set.
 */
export function startProcess(entry: string, env: Record<string, string>, label = path.basename(entry)): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  interface Waiter {
    pattern: RegExp
    resolve: (line: string) => void
    reject: (err: Error) => void
  }
  const waiters = new Set<Waiter>()
  const find = (pattern: RegExp) => `${out}\n${err}`.split('\n').find((l) => pattern.test(l))
  const scan = () => {
    for (const w of waiters) {
      const line = find(w.pattern)
      if (line !== undefined) {
        waiters.delete(w)
        w.resolve(line)
      }
    }
  }
  const echo = process.env.NBJ_TEST_ECHO
    ? (s: string) => process.stdout.write(s.replace(/^(?=.)/gm, `  <${label}> `))
    : () => undefined
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
    echo(chunk)
    scan()
  })
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
    echo(chunk)
    scan()
  })
  // 'close' comes after 'exit' and after both output streams ended: nothing more will be printed.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('close', (code, signal) => {
      for (const w of waiters)
        w.reject(
          new Error(
            `${label} (pid ${proc.pid}) exited (${code ?? signal}) without printing ${w.pattern}.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`,
          ),
        )
      waiters.clear()
      resolve({ code, signal })
    })
  })
  let closed = false
  void exited.then(() => {
    closed = true
  })
  const child: Child = {
    process: proc,
    pid: proc.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = find(pattern)
      if (seen !== undefined) return Promise.resolve(seen)
      if (closed) return Promise.reject(new Error(`${label} (pid ${proc.pid}) has exited without printing ${pattern}`))
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          pattern,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          },
          reject: (e) => {
            clearTimeout(timer)
            reject(e)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(
            new Error(
              `${label} (pid ${proc.pid}) printed no line matching ${pattern} within ${timeoutMs} ms.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`,
            ),
          )
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
  }
  children.add(child)
  void exited.then(() => children.delete(child))
  return child
}

/** Sends `signal` and resolves with how the process exited; rejects after `timeoutMs`. */
export async function stopProcess(child: Child, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
  if (child.alive()) child.process.kill(signal)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms of ${signal}`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([child.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Starts a test worker (`test/worker-entry.ts`, its queues chosen by `WORKER_QUEUES` in `env`) on
 * `databaseUrl`, and resolves once it says it runs its queues (within 60 s).
 */
export async function startWorkerProcess(
  databaseUrl: string,
  label: string,
  env: Record<string, string> = {},
): Promise<Child> {
  const child = startProcess('test/worker-entry.ts', { DATABASE_URL: databaseUrl, ...env }, label)
  await child.waitForLine(/worker running queues/, 60_000)
  return child
}

/** Kills every child still running (SIGKILL, by pid) and waits for them to exit. For afterAll. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopProcess(child, 'SIGKILL', 10_000).catch(() => undefined)))
}

/** A TCP port nothing listens on right now (asked from the OS), for a child's REALTIME_PORT. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!
}

/** `count` distinct TCP ports nothing listens on right now: all are held open together while the OS picks them. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject)
            server.listen(0, '127.0.0.1', () => {
              const address = server.address()
              resolve(typeof address === 'object' && address ? address.port : 0)
            })
          }),
      ),
    )
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}
