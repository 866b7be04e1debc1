/**
 * The web tier as a process: a production `next start` of the e2e build that each test starts
 * itself (on E2E_SPARE_WEB_PORT), so it is fresh when the test needs it fresh, can be pointed at a
 * database that is down, and can be sent SIGTERM. The worker and realtime server are Playwright's.
 */
import { expect, test, type Page } from '@playwright/test'
import { startNext, stopNext, type NextProcess } from './next-process'
import http from 'node:http'
import net from 'node:net'
import { SignJWT } from 'jose'
import { randomUUID } from 'node:crypto'

const SECRET = process.env.SESSION_SECRET ?? 'e2e-only-secret-e2e-only-secret-e2e-only-secret'
const WEB_PORT = Number(process.env.E2E_WEB_PORT || 3100)
const REALTIME_PORT = Number(process.env.E2E_REALTIME_PORT || 3101)
/** The port of the web process these tests start (playwright.config.ts lets it open sockets too). */
const SPARE_PORT = Number(process.env.E2E_SPARE_WEB_PORT || WEB_PORT + 2)
const SPARE = `http://localhost:${SPARE_PORT}`

/** Starts `next start` (the e2e build) on SPARE_PORT against `databaseUrl`; resolves once it answers. */
function startWeb(databaseUrl: string): Promise<NextProcess> {
  return startNext('start', SPARE_PORT, {
    NODE_ENV: 'production',
    NEXT_DIST_DIR: '.next-e2e',
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: SECRET,
    REALTIME_URL: `http://localhost:${REALTIME_PORT}`,
    ADMIN_PASSWORD: 'e2e-operator-password',
  })
}

/** A TCP port nothing listens on (bound, then released): a PostgreSQL that is stopped. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function session(viewerId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewerId)
    .setIssuer('next-background-jobs')
    .setAudience('session')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(SECRET))
}

let web: NextProcess | undefined
test.afterEach(async () => {
  await stopNext(web)
  web = undefined
})

test('with the database down, every page shows the same friendly notice instead of an error page', async ({ page }) => {
  // A stopped PostgreSQL, as the web process meets it: nothing answers on its port.
  web = await startWeb(`postgres://postgres@127.0.0.1:${await closedPort()}/nbj_e2e`)
  for (const path of ['/', '/jobs', '/jobs?state=failed', `/jobs/${randomUUID()}`, '/emails']) {
    const response = await page.goto(`${SPARE}${path}`)
    expect(response?.status(), path).toBe(200)
    await expect(page.getByRole('alert').filter({ hasText: 'The database is not reachable right now.' })).toBeVisible()
    await expect(page.getByText('Something went wrong')).toHaveCount(0)
  }
})

/** The Server Action request the welcome form sends, captured before it reaches the server. */
async function captureWelcomeAction(page: Page): Promise<{ headers: Record<string, string>; body: string }> {
  let captured: { headers: Record<string, string>; body: string } | null = null
  await page.route(`${SPARE}/emails`, async (route) => {
    if (route.request().method() !== 'POST') return route.continue()
    captured = { headers: route.request().headers(), body: route.request().postData() ?? '' }
    await route.abort()
  })
  await page.goto(`${SPARE}/emails`)
  await page.getByLabel('Email address').fill('capture@example.com')
  await page.getByRole('button', { name: 'Send welcome email' }).click()
  await expect.poll(() => captured !== null).toBe(true)
  return captured!
}

/** POSTs one Server Action call: its status and body. */
function post(headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${SPARE}/emails`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('a freshly started web process takes 200 concurrent welcome emails from 20 people without one UNAVAILABLE', async ({
  page,
}) => {
  test.setTimeout(120_000)
  web = await startWeb(process.env.DATABASE_URL!)
  const action = await captureWelcomeAction(page)
  expect(action.headers['next-action'], 'a Server Action call').toBeTruthy()
  expect(action.body).toContain('capture@example.com')

  const people = await Promise.all(Array.from({ length: 20 }, () => session(randomUUID())))
  // The browser's own headers (Next-Action, router state, content type), each call with its own session.
  const headers = Object.fromEntries(
    Object.entries(action.headers).filter(([name]) => !['cookie', 'content-length'].includes(name)),
  )
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      return post(
        { ...headers, cookie: `nbj_session=${people[i % 20]}` },
        action.body.replace('capture@example.com', `reader-${i}-${randomUUID().slice(0, 8)}@example.com`),
      )
    }),
  )
  const outcomes: Record<string, number> = {}
  for (const answer of answers) {
    const code =
      answer.status !== 200
        ? `HTTP ${answer.status}`
        : /"ok":true/.test(answer.body)
          ? 'ok'
          : (/"code":"(\w+)"/.exec(answer.body)?.[1] ?? 'unreadable')
    outcomes[code] = (outcomes[code] ?? 0) + 1
  }
  expect(outcomes).toEqual({ ok: 200 })
})

test('SIGTERM stops the web process within seconds while three tabs are open, and the tabs work again once it is back', async ({
  browser,
}) => {
  test.setTimeout(120_000)
  web = await startWeb(process.env.DATABASE_URL!)
  const context = await browser.newContext({ baseURL: SPARE })
  const tabs = await Promise.all([context.newPage(), context.newPage(), context.newPage()])
  for (const tab of tabs) {
    await tab.goto('/')
    await expect(tab.getByRole('status')).toHaveText('Live')
  }

  const signalled = Date.now()
  web.child.kill('SIGTERM')
  await web.exited
  // A deploy's stop must not hang on open tabs (their keep-alive connections and live requests).
  expect(Date.now() - signalled).toBeLessThan(10_000)

  web = await startWeb(process.env.DATABASE_URL!)
  for (const [i, tab] of tabs.entries()) {
    // No reload: the tab that was open the whole time starts an export and sees it complete.
    const before = await tab.locator('li[data-job-id]').count()
    await tab.getByLabel('Country').fill(['LI', 'MC', 'SM'][i]!)
    await tab.getByRole('button', { name: 'Start export' }).click()
    await expect(tab.locator('li[data-job-id]')).toHaveCount(before + 1)
    await expect(tab.locator('li[data-job-id]').first().getByText('Completed', { exact: true })).toBeVisible()
    await expect(tab.getByRole('status')).toHaveText('Live')
  }
  await context.close()
})
