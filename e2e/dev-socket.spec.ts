/**
 * One socket per tab in development too: `next dev` (React StrictMode runs every effect twice, Fast
 * Refresh re-runs edited modules) with the worker's realtime server that Playwright started. The
 * test starts `next dev` itself on E2E_SPARE_WEB_PORT (playwright.config.ts lets that origin open
 * sockets), building into .next-e2e/dev, beside the e2e production build and clear of `npm run dev`.
 *
 * The hot reload edits lib/client/socket.ts, the module that opens the tab's socket (Fast Refresh
 * re-runs it and every module that imports it, JobsProvider included): it appends one comment
 * line and puts the file back as it was in a `finally`; a run killed in between leaves only that
 * line, which the next run removes before anything compiles.
 */
import type { Page, WebSocket } from '@playwright/test'
import { startNext, stopNext, type NextProcess } from './next-process'
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

/** The page's socket.io WebSockets (not Next's own HMR socket), as the browser opened them. */
function trackSockets(page: Page): { opened: WebSocket[]; open: () => WebSocket[] } {
  const opened: WebSocket[] = []
  page.on('websocket', (ws) => {
    if (ws.url().startsWith(`ws://localhost:${REALTIME_PORT}/socket.io/`)) opened.push(ws)
  })
  return { opened, open: () => opened.filter((ws) => !ws.isClosed()) }
}

/** Resolves when the page says Fast Refresh applied an update. */
function fastRefresh(page: Page): Promise<unknown> {
  return page.waitForEvent('console', {
    predicate: (message) => /\[Fast Refresh\] done/.test(message.text()),
    timeout: 120_000,
  })
}

let dev: NextProcess | undefined
let original: string | undefined

test.beforeAll(async () => {
  // A run killed mid-edit left the marker line behind: take it out before anything compiles.
  const text = await readFile(EDITED, 'utf8')
  original = text.split(`\n${MARKER}`)[0]!
  if (original !== text) await writeFile(EDITED, original)
})

test.afterAll(async () => {
  if (original !== undefined) await writeFile(EDITED, original)
  await stopNext(dev)
})

// `next dev` compiles each page on its first visit: minutes on a small, busy machine.
test.describe.configure({ timeout: 300_000 })
test.use({ baseURL: DEV })

test('in development a tab keeps one socket through StrictMode, navigation and a hot reload', async ({
  page,
  startExport,
}) => {
  dev = await startNext('dev', DEV_PORT, {
    NODE_ENV: 'development',
    // `next dev` builds into <distDir>/dev, so this never touches the production build beside it.
    NEXT_DIST_DIR: '.next-e2e',
    NEXT_TELEMETRY_DISABLED: '1',
    SESSION_SECRET: process.env.SESSION_SECRET ?? 'e2e-only-secret-e2e-only-secret-e2e-only-secret',
    REALTIME_URL: `http://localhost:${REALTIME_PORT}`,
  })
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

  // A hot reload of the module that opens the socket, then another as the file is put back: Fast
  // Refresh re-runs it in the same document each time.
  await page.evaluate(() => ((window as Window & { __sameDocument?: boolean }).__sameDocument = true))
  let putBack: Promise<unknown> | undefined
  try {
    const edited = fastRefresh(page)
    await writeFile(EDITED, `${original}\n${MARKER}\n`)
    await edited
    putBack = fastRefresh(page)
  } finally {
    await writeFile(EDITED, original!)
  }
  await putBack
  expect(await page.evaluate(() => (window as Window & { __sameDocument?: boolean }).__sameDocument)).toBe(true)
  await page.getByRole('link', { name: 'Exports' }).click()
  await expect(page.getByRole('status')).toHaveText('Live')

  // The same one connection the whole way: StrictMode, navigation and the reload opened no other.
  expect(sockets.open(), 'open sockets after the hot reload').toHaveLength(1)
  expect(sockets.opened, 'sockets opened in all').toHaveLength(1)
})
