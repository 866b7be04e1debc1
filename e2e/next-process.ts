/**
 * A Next.js server a spec starts and stops itself (`next start` of the e2e build, or `next dev`),
 * beside the ones playwright.config.ts starts: e2e/web-process.spec.ts and e2e/dev-socket.spec.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'

export interface NextProcess {
  /** Next's CLI; with `next start` also the server, so a signal sent to it reaches the server. */
  child: ChildProcess
  /** Resolves with the CLI's exit code once it exited. */
  exited: Promise<number | null>
  /** Everything it printed so far (stdout and stderr). */
  log: () => string
}

/**
 * Runs `next <command> -p <port>` with `env` (added to this process's) and resolves once it says
 * it is ready; rejects with its output if it exits before. Stop it with `stopNext`.
 */
export async function startNext(command: 'start' | 'dev', port: number, env: NodeJS.ProcessEnv): Promise<NextProcess> {
  let output = ''
  // node runs Next's CLI itself (no shell in between), in a process group of its own: `next dev`
  // serves from a child process, which `stopNext` must stop as well.
  const child = spawn(process.execPath, ['node_modules/next/dist/bin/next', command, '-p', String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => (/Ready in/.test(output) ? resolve() : undefined))
    void exited.then((code) => reject(new Error(`next ${command} exited (${code}) before it was ready:\n${output}`)))
  })
  return { child, exited, log: () => output }
}

/** Kills the server and every process it started (SIGKILL to its group), unless it exited already. */
export async function stopNext(next: NextProcess | undefined): Promise<void> {
  if (!next || next.child.exitCode !== null || next.child.signalCode !== null) return
  process.kill(-next.child.pid!, 'SIGKILL')
  await next.exited
}
