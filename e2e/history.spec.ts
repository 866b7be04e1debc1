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
  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
  const job = await startExport({})
  const jobId = (await job.getAttribute('data-job-id'))!
  await expectJobState(page, jobId, 'active')

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
