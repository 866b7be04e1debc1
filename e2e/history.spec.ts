import { randomUUID } from 'node:crypto'
import { expect, expectJobState, test } from './fixtures'

test('I find my finished export in Job history, and its page tells what happened when', async ({
  page,
  jobEvents,
  startExport,
}) => {
  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
  const job = await startExport({ country: 'AD' })
  const jobId = (await job.getAttribute('data-job-id'))!
  await expectJobState(page, jobId, 'completed')

  // What the socket delivered: ends completed, and in seq order it never goes backwards.
  await expect.poll(() => jobEvents.of(jobId).at(-1)?.state).toBe('completed')
  const bySeq = [...jobEvents.of(jobId)].sort((a, b) => a.seq - b.seq).map((e) => e.state)
  expect(bySeq.at(-1)).toBe('completed')

  await page.getByRole('link', { name: 'Job history' }).click()
  await expectJobState(page, jobId, 'completed')
  await page.locator(`tr[data-job-id="${jobId}"]`).getByRole('link').click()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Cities · AD')
  const timeline = page.getByRole('list').filter({ has: page.locator('[data-kind]') })
  await expect(timeline.locator('[data-kind="queued"]')).toContainText('Queued')
  await expect(timeline.locator('[data-kind="started"]')).toContainText('Attempt 1 started')
  await expect(timeline.locator('[data-kind="completed"]')).toContainText('Completed')
  await expect(page.getByRole('link', { name: /Download cities-/ })).toBeVisible()
})

test('Job history filters by state and only lists my own jobs', async ({ page, browser, startExport }) => {
  await page.goto('/')
  const mine = await startExport({ country: 'SM' })
  const mineId = (await mine.getAttribute('data-job-id'))!
  await expectJobState(page, mineId, 'completed')
  await page.goto('/jobs?state=failed')
  await expect(page.locator(`tr[data-job-id="${mineId}"]`)).toHaveCount(0)
  await page.goto('/jobs?state=completed')
  await expectJobState(page, mineId, 'completed')

  const other = await browser.newContext()
  const theirs = await other.newPage()
  await theirs.goto('/jobs')
  await expect(theirs.getByText('No jobs match.')).toBeVisible()
  const detail = await theirs.goto(`/jobs/${mineId}`)
  expect(detail?.status()).toBe(404)
  await other.close()
})

test('a welcome email is queued at once, sent by the worker, and sent only once per address', async ({ page }) => {
  const address = `ada-${randomUUID().slice(0, 8)}@example.com`
  await page.goto('/emails')
  await page.getByLabel('Email address').fill(address)
  await page.getByRole('button', { name: 'Send welcome email' }).click()
  await expect(page.getByText('Queued. The worker sends it in the background.')).toBeVisible()
  const sent = page.getByRole('list', { name: 'Sent messages' }).getByRole('listitem').filter({ hasText: address })
  await expect(sent).toHaveCount(1)
  await expect(sent).toContainText('Welcome!')

  await page.getByLabel('Email address').fill(address)
  await page.getByRole('button', { name: 'Send welcome email' }).click()
  await expect(page.getByText('This address was already welcomed: nothing new was sent.')).toBeVisible()
  await page.reload()
  await expect(sent).toHaveCount(1)

  await page.getByLabel('Email address').fill('not an address')
  await page.getByRole('button', { name: 'Send welcome email' }).click()
  await expect(page.getByText('Enter an email address, like ada@example.com.')).toBeVisible()
})

test("an operator cancels someone's running export, and its owner sees who did", async ({
  page,
  browser,
  startExport,
}) => {
  // The operator signs in first: an export of every city takes seconds, so the operator's view is
  // already open and live when it starts, and Cancel is pressed while it runs.
  const operatorContext = await browser.newContext()
  const operator = await operatorContext.newPage()
  await operator.goto('/admin/jobs')
  await expect(operator).toHaveURL(/\/admin\/login$/)
  await operator.getByLabel('Operator password').fill('wrong password, surely')
  await operator.getByRole('button', { name: 'Sign in' }).click()
  await expect(operator.getByText('Wrong password.')).toBeVisible()
  await operator.getByLabel('Operator password').fill('e2e-operator-password')
  await operator.getByRole('button', { name: 'Sign in' }).click()
  await expect(operator).toHaveURL(/\/admin\/jobs$/)
  await expect(
    operator.getByRole('region', { name: 'Queue exports' }).or(operator.getByLabel('Queue exports')),
  ).toBeVisible()

  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
  const job = await startExport({})
  const jobId = (await job.getAttribute('data-job-id'))!
  await expectJobState(page, jobId, 'active')

  const row = operator.locator(`section[aria-labelledby="all-heading"] tr[data-job-id="${jobId}"]`)
  await expect(row).toHaveAttribute('data-state', 'active')
  await row.getByRole('button', { name: 'Cancel' }).click()

  await expectJobState(page, jobId, 'cancelled')
  await expect(job.getByText('Cancelled by an operator.')).toBeVisible()
  await expect(row).toHaveAttribute('data-state', 'cancelled')

  await page.goto(`/jobs/${jobId}`)
  await expect(page.locator('[data-kind="cancel_requested"]')).toContainText('Cancel requested by an operator')
  await expect(page.locator('[data-kind="cancelled"]')).toContainText('Cancelled by an operator')
  await operatorContext.close()
})

test('the operator view and its event stream are closed to everyone else', async ({ page }) => {
  await page.goto('/admin/jobs')
  await expect(page).toHaveURL(/\/admin\/login$/)
  const token = await page.request.get('/api/realtime-token?scope=operator')
  expect(token.status()).toBe(401)
})

test('when an attempt fails while I watch, the first "Retrying in N s" I see is already right', async ({
  page,
  sql,
}) => {
  // The page's clock is Playwright's, so "the card has been on screen a while" takes no real time.
  await page.clock.install()
  await page.goto('/')
  const cookie = (await page.context().cookies()).find((c) => c.name === 'nbj_session')!.value
  const viewer = (JSON.parse(Buffer.from(cookie.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub
  // A running attempt, written as the runner writes one (no worker holds it, so nothing else moves it),
  // with its pg-boss job active too: a record without one is settled as JOB_LOST by the worker.
  const jobId = randomUUID()
  await sql(
    `INSERT INTO app.jobs (id, queue, owner_id, payload, state, attempt, max_attempts, started_at)
     VALUES ($1, 'exports', $2, '{"country":"IS"}', 'active', 1, 3, now())`,
    [jobId, viewer],
  )
  await sql(
    `INSERT INTO pgboss.job (id, name, data, state, started_on) VALUES ($1, 'exports', '{"country":"IS"}', 'active', now())`,
    [jobId],
  )
  try {
    await page.reload()
    await expect(page.getByRole('status')).toHaveText('Live')
    await expectJobState(page, jobId, 'active')
    await page.clock.fastForward(30_000)
    // Every text the card's error line ever shows, recorded as the DOM changes (before any tick).
    await page.evaluate((id) => {
      const seen: string[] = []
      ;(window as unknown as { retryTexts: string[] }).retryTexts = seen
      new MutationObserver(() => {
        const text = document.querySelector(`li[data-job-id="${id}"] .job-error`)?.textContent ?? ''
        if (text.includes('Retrying') && seen.at(-1) !== text) seen.push(text)
      }).observe(document.body, { subtree: true, childList: true, characterData: true })
    }, jobId)
    const pageNow = await page.evaluate(() => Date.now())
    // The attempt fails; pg-boss will retry it 20 s from now (page time), as markRetrying records it.
    await sql(`UPDATE app.jobs SET state = 'queued', error = $2, retry_at = to_timestamp($3 / 1000.0) WHERE id = $1`, [
      jobId,
      { code: 'EXCEPTION', message: 'The upstream API timed out.' },
      pageNow + 20_000,
    ])
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { retryTexts: string[] }).retryTexts[0] ?? ''))
      .toMatch(/Retrying in \d+ s\./)
    const first = await page.evaluate(() => (window as unknown as { retryTexts: string[] }).retryTexts[0]!)
    const seconds = Number(/Retrying in (\d+) s\./.exec(first)![1])
    // 20 s minus however long the update took to arrive; never the 50 s a 30-second-old clock gives.
    expect(seconds).toBeGreaterThanOrEqual(10)
    expect(seconds).toBeLessThanOrEqual(20)
  } finally {
    await sql(`UPDATE app.jobs SET state = 'cancelled', settled_at = now() WHERE id = $1`, [jobId])
    await sql(`DELETE FROM pgboss.job WHERE name = 'exports' AND id = $1`, [jobId])
  }
})
