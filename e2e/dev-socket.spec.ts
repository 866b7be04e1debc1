/**
 * One socket per tab in development too: `next dev` (React StrictMode runs every effect twice, Fast
 * Refresh re-runs edited modules) with the worker's realtime server that Playwright started. The
 * test starts `next dev` itself on E2E_SPARE_WEB_PORT (playwright.config.ts lets that origin open
 * sockets), building into .next-e2e/dev, beside the e2e production build and clear of `npm run dev`.
 *
 * The hot reload edits lib/client/socket.ts, the module that opens the tab's socket (Fast Refresh
 * re-runs it and every module that imports it, JobsProvider included), by appending one comment line, and puts the file back as it was in a `finally`; a run killed in
 * between leaves only that line, which the next run removes before it starts.
 */
import type { Page, WebSocket } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { expect, test } from './fixtures'

const WEB_PORT = Number(process.env.E2E_WEB_PORT || 3100)
const REALTIME_PORT = Number(process.env.E2E_REALTIME_PORT || 3101)
const DEV_PORT = Number(process.env.E2E_SPARE_WEB_PORT || WEB_PORT + 2)
const DEV = `http://localhost:${DEV_PORT}`
/** The module the hot reload edits: it opens the tab's socket, so it is the one most likely to leak one. */
const EDITED = path.resolve('lib/client/socket.ts')
const MARKER = '// e2e/dev-socket.spec.ts hot reload'

interface DevServer {
  child: ChildProcess
  exited: Promise<void>
  log: () => string
}

/** Starts `next dev` on DEV_PORT; resolves once it says it is ready (pages compile on first visit). */
async function startDev(): Promise<DevServer> {
  let output = ''
  // Its own process group: `next dev` runs the server in a child process, which stopDev() stops too.
  const child = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'dev', '-p', String(DEV_PORT)], {
    detached: true,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      // `next dev` builds into <distDir>/dev, so this never touches the production build beside it.
      NEXT_DIST_DIR: '.next-e2e',
      NEXT_TELEMETRY_DISABLED: '1',
      SESSION_SECRET: process.env.SESSION_SECRET ?? 'e2e-only-secret-e2e-only-secret-e2e-only-secret',
      REALTIME_URL: `http://localhost:${REALTIME_PORT}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => (/Ready in/.test(output) ? resolve() : undefined))
    void exited.then(() => reject(new Error(`next dev exited before it was ready:\n${output}`)))
  })
  return { child, exited, log: () => output }
}

/** The page's socket.io WebSockets (not Next's own HMR socket), as the browser opened them. */
function trackSockets(page: Page): { opened: WebSocket[]; open: () => WebSocket[] } {
  const opened: WebSocket[] = []
  page.on('websocket', (ws) => {
    if (ws.url().startsWith(`ws://localhost:${REALTIME_PORT}/socket.io/`)) opened.push(ws)
  })
  return { opened, open: () => opened.filter((ws) => !ws.isClosed()) }
}

let dev: DevServer | undefined
let original: string | undefined

test.beforeAll(async () => {
  // A run killed mid-edit left the marker line behind: take it out before anything compiles.
  const text = await readFile(EDITED, 'utf8')
  original = text.split(`\n${MARKER}`)[0]!
  if (original !== text) await writeFile(EDITED, original)
})

test.afterAll(async () => {
  if (original !== undefined) await writeFile(EDITED, original)
  if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
    process.kill(-dev.child.pid!, 'SIGKILL')
    await dev.exited
  }
})

// `next dev` compiles each page on its first visit: minutes on a small, busy machine.
test.describe.configure({ timeout: 300_000 })
test.use({ baseURL: DEV })

test('in development a tab keeps one socket through StrictMode, navigation and a hot reload', async ({
  page,
  startExport,
}) => {
  dev = await startDev()
  const sockets = trackSockets(page)
  const compiled = { timeout: 120_000 }

  await page.goto(`${DEV}/`)
  await expect(page.getByRole('status')).toHaveText('Live', compiled)
  expect(sockets.open(), 'open sockets on the dashboard').toHaveLength(1)

  // A job, so there is a job page to visit.
  const item = await startExport({ minPopulation: '100000' })
  const jobId = (await item.getAttribute('data-job-id'))!

  // Through the nav and the job's link (client-side navigation), then Back.
  await page.getByRole('link', { name: 'Job history' }).click()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Job history', compiled)
  await page.locator(`[data-job-id="${jobId}"]`).first().getByRole('link').first().click()
  await expect(page).toHaveURL(`${DEV}/jobs/${jobId}`, compiled)
  await expect(page.locator(`[data-job-id="${jobId}"]`).first()).toHaveAttribute('data-state', 'completed', compiled)
  await page.getByRole('link', { name: 'Exports' }).click()
  await expect(page.getByRole('status')).toHaveText('Live', compiled)
  await page.goBack()
  await expect(page).toHaveURL(`${DEV}/jobs/${jobId}`)
  expect(sockets.open(), 'open sockets after navigating').toHaveLength(1)

  // A hot reload of the module that opens the socket: Fast Refresh re-runs it in the same document.
  const refreshed = page.waitForEvent('console', {
    predicate: (message) => /\[Fast Refresh\] done/.test(message.text()),
    timeout: 120_000,
  })
  await page.evaluate(() => ((window as Window & { __sameDocument?: boolean }).__sameDocument = true))
  try {
    await writeFile(EDITED, `${original}\n${MARKER}\n`)
    await refreshed
  } finally {
    await writeFile(EDITED, original!)
  }
  expect(await page.evaluate(() => (window as Window & { __sameDocument?: boolean }).__sameDocument)).toBe(true)
  await page.getByRole('link', { name: 'Exports' }).click()
  await expect(page.getByRole('status')).toHaveText('Live')

  // The same one connection the whole way: StrictMode, navigation and the reload opened no other.
  expect(sockets.open(), 'open sockets after the hot reload').toHaveLength(1)
  expect(sockets.opened, 'sockets opened in all').toHaveLength(1)
})
