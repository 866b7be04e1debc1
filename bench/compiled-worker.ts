/**
 * `worker.idle_rss_mb`: resident memory of the production worker process (`npm run build`'s
 * dist/worker/main.js under plain `node`) once it is running and idle, next to the same entry run
 * through tsx as development does. Each is a process of its own, started and stopped here.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { compared, median, type ScenarioResult } from './report'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

/** Longest a worker may take from spawn to its "worker running queues" line, in ms. */
const READY_TIMEOUT_MS = 60_000
/** After the ready line: the first maintenance pass and timers settle before RSS is read, in ms. */
const SETTLE_MS = 3_000
/** RSS samples (one every 200 ms) whose median is reported. */
const SAMPLES = 5

/**
 * The options `npm run worker` passes to `node` before the bundle (package.json's `worker` script,
 * `node [options] dist/worker/main.js`), so every process the bench measures as the production
 * worker starts exactly as production starts it. Throws if the script has another shape.
 */
export function workerNodeOptions(): string[] {
  const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> })
    .scripts
  const words = scripts.worker?.trim().split(/\s+/) ?? []
  if (words[0] !== 'node' || words.at(-1) !== 'dist/worker/main.js')
    throw new Error(`package.json's worker script is not "node [options] dist/worker/main.js": ${scripts.worker}`)
  return words.slice(1, -1)
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

/** Resident set size of `pid` in MB, from `ps` (Linux and macOS). */
async function rssMb(pid: number): Promise<number> {
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)])
  const kb = Number(stdout.trim())
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`ps reported no RSS for process ${pid}`)
  return kb / 1024
}

/** Starts `node ...args` as a worker on `url`, waits until it runs, samples its idle RSS, stops it with SIGTERM. */
async function idleRss(url: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: url,
      NODE_ENV: 'production',
      REALTIME_PORT: String(await freePort()),
      SESSION_SECRET: 'bench-only-secret-of-at-least-32-characters',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ready line within ${READY_TIMEOUT_MS} ms:\n${output}`)),
      READY_TIMEOUT_MS,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('worker running queues')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`worker exited (code ${code}) before it was running:\n${output}`))
    })
  })
  try {
    await ready
    await sleep(SETTLE_MS)
    const samples: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      samples.push(await rssMb(child.pid!))
      await sleep(200)
    }
    return median(samples)
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Builds dist/worker (the same script `npm run build` runs), then measures both ways of running the worker. */
export async function compiledWorkerScenario(options: { url: string }): Promise<ScenarioResult> {
  await run(process.execPath, ['scripts/build-worker.mjs'], { cwd: root })
  const compiled = await idleRss(options.url, [...workerNodeOptions(), 'dist/worker/main.js'])
  const viaTsx = await idleRss(options.url, ['--import', 'tsx', 'workers/main.ts'])
  return {
    measurements: [compared('worker.idle_rss_mb', compiled, 'MB', 'tsx workers/main.ts', viaTsx)],
    notes: [
      `worker idle RSS: node ${workerNodeOptions().join(' ')} dist/worker/main.js ${compiled.toFixed(0)} MB vs tsx workers/main.ts ${viaTsx.toFixed(0)} MB ` +
        `(the shipped queues, realtime on, median of ${SAMPLES} samples ${SETTLE_MS / 1000} s after "worker running queues")`,
    ],
  }
}
