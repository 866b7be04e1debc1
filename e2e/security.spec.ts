/**
 * The security model against the production build, as an attacker (or bad luck) would test it:
 * downloads without or with forged sessions, hostile download paths, expired downloads, an
 * unexpected server error, and realtime tokens that expire or connections that drop.
 */
import { request as newRequest, type APIResponse, type Locator, type Page, type WebSocketRoute } from '@playwright/test'
import { SignJWT } from 'jose'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { expect, test } from './fixtures'

/** The secret the servers sign with: the same default as playwright.config.ts. */
const SECRET = process.env.SESSION_SECRET ?? 'e2e-only-secret-e2e-only-secret-e2e-only-secret'
/** Where playwright.config.ts tees the web server's output. */
const WEB_LOG = process.env.E2E_WEB_LOG ?? '.data/e2e-web.log'
const WEB = `http://127.0.0.1:${process.env.E2E_WEB_PORT || 3100}`
const ISSUER = 'next-background-jobs'

/** The viewer id in a signed token (its `sub`), read without verifying. */
function subjectOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub
}

function sign(
  sub: string,
  audience: 'session' | 'realtime',
  { secret = SECRET, expiresIn = 600 } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt(now - 900)
    .setExpirationTime(now + expiresIn)
    .sign(new TextEncoder().encode(secret))
}

/** The page's session cookie value. */
async function sessionCookie(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name === 'nbj_session')
  expect(cookie, 'the proxy gives every browser a session').toBeDefined()
  return cookie!.value
}

type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; body: string }

/**
 * GET `path` exactly as written (no URL normalisation), with an optional cookie header, following
 * same-origin redirects as a browser would (Next.js answers `//` with a 308 to the clean path).
 */
async function rawGet(path: string, cookie?: string, redirects = 3): Promise<RawAnswer> {
  const answer = await rawGetOnce(path, cookie)
  const location = answer.headers.location
  if (redirects > 0 && [301, 302, 307, 308].includes(answer.status) && location?.startsWith('/'))
    return rawGet(location, cookie, redirects - 1)
  return answer
}

function rawGetOnce(path: string, cookie?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${WEB}/`, { method: 'GET', path, headers: cookie ? { cookie } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

/** Starts an export of `country` through the form and waits until the page shows it completed. */
async function completedExport(startExport: (q: { country: string }) => Promise<Locator>, country: string) {
  const job = await startExport({ country })
  const jobId = (await job.getAttribute('data-job-id'))!
  await expect(job.getByText('Completed', { exact: true })).toBeVisible()
  return jobId
}

test.describe('downloads', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/')
    await expect(page.getByRole('status')).toHaveText('Live')
  })

  test('someone with no session, or a forged one, gets the same 404 for my download as for one that does not exist', async ({
    page,
    startExport,
    baseURL,
  }) => {
    const jobId = await completedExport(startExport, 'IS')
    const mine = await sessionCookie(page)
    const viewer = subjectOf(mine)
    expect((await page.request.get(`/downloads/${jobId}`)).status()).toBe(200)

    const anonymous = await newRequest.newContext({ baseURL })
    const unknown = await anonymous.get(`/downloads/${crypto.randomUUID()}`)
    expect(unknown.status()).toBe(404)
    const notFound = await unknown.text()
    const answers: { status: number; text: string; disposition?: string }[] = []
    const record = async (response: APIResponse) =>
      answers.push({
        status: response.status(),
        text: await response.text(),
        disposition: response.headers()['content-disposition'],
      })
    await record(await anonymous.get(`/downloads/${jobId}`))
    for (const forged of [
      await sign(viewer, 'session', { secret: 'another-secret-another-secret-another-secret' }),
      await sign(viewer, 'realtime'),
      await sign(viewer, 'session', { expiresIn: -60 }),
      viewer,
      `${mine.slice(0, -2)}xx`,
    ]) {
      const context = await newRequest.newContext({ baseURL, extraHTTPHeaders: { cookie: `nbj_session=${forged}` } })
      await record(await context.get(`/downloads/${jobId}`))
      // The job's page tells them nothing either.
      expect((await context.get(`/jobs/${jobId}`)).status()).toBe(404)
      await context.dispose()
    }
    expect(answers).toHaveLength(6)
    for (const answer of answers) expect(answer).toEqual({ status: 404, text: notFound, disposition: undefined })
    await anonymous.dispose()

    // Control: the same request with my real cookie is the file.
    const withMine = await newRequest.newContext({ baseURL, extraHTTPHeaders: { cookie: `nbj_session=${mine}` } })
    expect((await withMine.get(`/downloads/${jobId}`)).status()).toBe(200)
    await withMine.dispose()
  })

  test('a download path with a traversal or a malformed id answers 400 or 404, never a file', async ({
    page,
    startExport,
  }) => {
    const jobId = await completedExport(startExport, 'LU')
    const cookie = `nbj_session=${await sessionCookie(page)}`
    const paths = [
      '/downloads/../../etc/passwd',
      '/downloads/..%2F..%2F..%2Fetc%2Fpasswd',
      '/downloads/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/downloads/%252e%252e%252f%252e%252e%252fetc%252fpasswd',
      '/downloads/%25252e%25252e%25252fetc%25252fpasswd',
      '/downloads/..%5c..%5cwindows%5cwin.ini',
      '/downloads/%2fetc%2fpasswd',
      '/downloads//etc/passwd',
      '/downloads/%00',
      `/downloads/${jobId}%00`,
      `/downloads/%00${jobId}`,
      `/downloads/${jobId}/..%2f..%2f..%2fetc%2fpasswd`,
      `/downloads/${jobId}%2f..`,
      `/downloads/${jobId}.csv`,
      `/downloads/${jobId}%20`,
      `/downloads/${jobId.replace(/-/g, '')}`,
      `/downloads/${'a'.repeat(4000)}`,
      `/downloads/${jobId}${'0'.repeat(4000)}`,
    ]
    for (const path of paths) {
      const answer = await rawGet(path, cookie)
      expect([400, 404], `${path.slice(0, 80)} answered ${answer.status}`).toContain(answer.status)
      expect(answer.headers['content-type'] ?? '', path).not.toContain('text/csv')
      expect(answer.headers['content-disposition'], path).toBeUndefined()
      expect(answer.body, path).not.toMatch(/root:|\[boot loader\]|country,admin_code/)
    }
    // Control: the exact path is the file.
    const file = await rawGet(`/downloads/${jobId}`, cookie)
    expect(file.status).toBe(200)
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8')
  })

  test('a download path that is not valid percent-encoding is a 400, never a file or a stack trace', async ({
    page,
    startExport,
  }) => {
    const jobId = await completedExport(startExport, 'AD')
    const cookie = `nbj_session=${await sessionCookie(page)}`
    for (const path of [
      '/downloads/%c0%ae%c0%ae%c0%afetc%c0%afpasswd', // overlong UTF-8 for ../
      `/downloads/${jobId}%c0%af..`,
      '/downloads/%ED%A0%80', // an encoded lone surrogate
      '/downloads/%',
      '/downloads/%zz',
    ]) {
      const answer = await rawGet(path, cookie)
      // proxy.ts answers it before Next's router, which would fail on it with a bare 500.
      expect(answer.status, path).toBe(400)
      expect(answer.body, path).toBe('Bad request: the path is not valid percent-encoded UTF-8.')
      expect(answer.headers['content-type'] ?? '', path).not.toContain('text/csv')
      expect(answer.headers['content-disposition'], path).toBeUndefined()
    }
  })

  test('my download expires after a day: it answers 410 Gone, the file is deleted, and the job stays completed', async ({
    page,
    startExport,
    sql,
  }) => {
    const jobId = await completedExport(startExport, 'MT')
    expect((await page.request.get(`/downloads/${jobId}`)).status()).toBe(200)
    await sql(`UPDATE app.jobs SET settled_at = now() - interval '25 hours' WHERE id = $1`, [jobId])

    // The job's page says so, and links to no dead file (the worker's expiresAt is still ahead).
    await page.goto(`/jobs/${jobId}`)
    await expect(page.getByRole('list', { name: 'This job' }).getByText('Download expired')).toBeVisible()
    await expect(page.getByRole('region', { name: 'Summary' })).toContainText('expired, no longer available')
    await expect(page.locator(`a[href="/downloads/${jobId}"]`)).toHaveCount(0)

    const gone = await page.request.get(`/downloads/${jobId}`)
    expect(gone.status()).toBe(410)
    expect(await gone.text()).toBe('This download has expired. Start the export again.')
    expect(
      await sql<{ n: number }>('SELECT count(*)::int AS n FROM app.job_file_parts WHERE job_id = $1', [jobId]),
    ).toEqual([{ n: 0 }])
    expect(await sql('SELECT state FROM app.jobs WHERE id = $1', [jobId])).toEqual([{ state: 'completed' }])
  })
})

test('an unexpected error shows me a reference that is in the server log, and nothing of its cause', async ({
  page,
  sql,
}) => {
  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
  const count = await page.locator('li[data-job-id]').count()
  // Every Server Action answer, as the browser received it.
  const actionBodies: string[] = []
  await page.route('**/*', async (route) => {
    if (route.request().method() !== 'POST' || !route.request().headers()['next-action']) return route.fallback()
    const response = await route.fetch()
    const body = await response.text()
    actionBodies.push(body)
    await route.fulfill({ response, body })
  })

  // A realistic unexpected failure, scoped to this test's own export: the database refuses the
  // insert with an error whose text looks like SQL and a server path (none of which may leak).
  const marker = `e2e-boom-${crypto.randomUUID().slice(0, 8)}`
  await sql(`CREATE OR REPLACE FUNCTION app.e2e_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'simulated failure: SELECT owner_id FROM app.jobs at /srv/app/lib/server/job-store.ts:42'; END $$`)
  await sql(`CREATE TRIGGER e2e_refuse_insert BEFORE INSERT ON app.jobs FOR EACH ROW
    WHEN (NEW.payload->>'nameContains' = '${marker}') EXECUTE FUNCTION app.e2e_refuse_insert()`)
  let message: string
  try {
    await page.getByLabel('Name contains').fill(marker)
    await page.getByRole('button', { name: 'Start export' }).click()
    const shown = page.getByText(/^Something went wrong on our side \(reference [0-9a-f]{8}\)\.$/)
    await expect(shown).toBeVisible()
    message = (await shown.textContent())!
  } finally {
    await sql('DROP TRIGGER IF EXISTS e2e_refuse_insert ON app.jobs')
    await sql('DROP FUNCTION IF EXISTS app.e2e_refuse_insert()')
  }
  const ref = /reference ([0-9a-f]{8})/.exec(message)![1]!
  await expect(page.locator('li[data-job-id]')).toHaveCount(count)

  // What reached the browser: the typed answer with the reference, and nothing about the cause.
  const answer = actionBodies.find((body) => body.includes(ref))
  expect(answer, 'the action answer carries the reference').toBeDefined()
  expect(answer).toContain('"code":"INTERNAL"')
  expect(actionBodies.join('\n')).not.toMatch(
    /simulated|SELECT|owner_id|app\.jobs|\/srv\/|job-store|\.ts\b|node_modules|\bat \S+ \(|P0001|plpgsql|stack|digest/i,
  )

  // What reached the log: the same reference, next to the cause.
  await expect
    .poll(
      async () => {
        const log = await readFile(WEB_LOG, 'utf8').catch(() => '')
        const at = log.indexOf(`[ref ${ref}]`)
        return at >= 0 && log.slice(at, at + 2_000).includes('simulated failure')
      },
      { timeout: 10_000 },
    )
    .toBe(true)

  // Nothing else was affected: the same form works for another export.
  await page.getByLabel('Name contains').fill('san')
  await page.getByLabel('Country').fill('BR')
  await page.getByRole('button', { name: 'Start export' }).click()
  await expect(page.locator('li[data-job-id]')).toHaveCount(count + 1)
  // The list shows the new job before its action's answer is in: let the recording handler finish
  // with it, or closing the page disposes the answer under it and fails the test afterwards.
  await page.unrouteAll({ behavior: 'wait' })
})

test.describe('realtime tokens', () => {
  test('after my live connection drops, the browser fetches a new token and is Live again, still receiving my jobs', async ({
    page,
    startExport,
  }) => {
    const tokenRequests: string[] = []
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/realtime-token') tokenRequests.push(request.url())
    })
    const connections: { page: WebSocketRoute; server: WebSocketRoute }[] = []
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      connections.push({ page: ws, server: ws.connectToServer() })
    })
    await page.goto('/')
    await expect(page.getByRole('status')).toHaveText('Live')
    expect(tokenRequests).toHaveLength(1)
    expect(connections).toHaveLength(1)

    // The network drops the connection (both ends see it close).
    await connections[0]!.server.close()
    await connections[0]!.page.close()
    await expect.poll(() => tokenRequests.length).toBe(2)
    await expect.poll(() => connections.length).toBe(2)
    await expect(page.getByRole('status')).toHaveText('Live')

    // Events flow on the new connection: a new export is seen completing without a reload.
    const job = await startExport({ country: 'LI' })
    await expect(job.getByText('Completed', { exact: true })).toBeVisible()
  })

  test('an expired realtime token is refused, and the browser quietly gets a fresh one and is Live', async ({
    page,
  }) => {
    let served = 0
    await page.route('**/api/realtime-token', async (route) => {
      const response = await route.fetch()
      const body = (await response.json()) as { token: string }
      served++
      // The first token handed to the browser has already expired (as after a laptop sleeps).
      if (served === 1) body.token = await sign(subjectOf(body.token), 'realtime', { expiresIn: -300 })
      await route.fulfill({ response, json: body })
    })
    const refusals: string[] = []
    page.on('websocket', (ws) =>
      ws.on('framereceived', (frame) => {
        if (typeof frame.payload === 'string' && frame.payload.startsWith('44')) refusals.push(frame.payload)
      }),
    )
    await page.goto('/')
    await expect(page.getByRole('status')).toHaveText('Live')
    expect(served).toBeGreaterThanOrEqual(2)
    expect(refusals).toEqual(['44{"message":"UNAUTHORIZED"}'])
  })
})
