import { parse } from 'csv-parse/sync'
import { readFile } from 'node:fs/promises'
import { expect, test } from './fixtures'

test.beforeEach(async ({ page }) => {
  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
})

test('I export Brazilian cities named like "san", watch it complete and download exactly the matching rows', async ({
  page,
  startExport,
  sql,
}) => {
  const counted = await sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM app.cities WHERE strpos(lower(name), 'san') > 0 AND country = 'BR' AND population >= 5000`,
  )
  const expected = counted[0]!.n
  expect(expected).toBeGreaterThan(0)

  const job = await startExport({ nameContains: 'san', country: 'br', minPopulation: '5000' })
  await expect(job.getByText('Completed', { exact: true })).toBeVisible()
  const bar = job.getByRole('progressbar', { name: 'Export progress' })
  await expect(bar).toHaveAttribute('aria-valuenow', String(expected))
  await expect(bar).toHaveAttribute('aria-valuemax', String(expected))
  await expect(job.getByRole('button', { name: 'Cancel' })).toHaveCount(0)

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    job.getByRole('link', { name: /Download/ }).click(),
  ])
  expect(download.suggestedFilename()).toMatch(/^cities-[0-9a-f]{8}\.csv$/)
  const text = await readFile(await download.path(), 'utf8')
  expect(text.charCodeAt(0)).toBe(0xfeff)
  const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[]
  expect(rows).toHaveLength(expected)
  expect(
    rows.every((r) => r.country === 'BR' && r.name!.toLowerCase().includes('san') && Number(r.population) >= 5000),
  ).toBe(true)
})

test('I watch an export of every city make progress, cancel it, and it ends Cancelled with nothing to download', async ({
  page,
  startExport,
  sql,
}) => {
  const job = await startExport({})
  const jobId = await job.getAttribute('data-job-id')
  const bar = job.getByRole('progressbar', { name: 'Export progress' })
  await expect(job.getByText(/Writing [\d,]+ of 135,233 rows/)).toBeVisible()
  const first = Number(await bar.getAttribute('aria-valuenow'))
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(first)
  await expect(bar).toHaveAttribute('aria-valuemax', '135233')

  await job.getByRole('button', { name: 'Cancel' }).click()
  await expect(job.getByText('Cancelled', { exact: true })).toBeVisible()
  await expect(job.getByRole('link', { name: /Download/ })).toHaveCount(0)
  await expect(job.getByRole('button', { name: 'Cancel' })).toHaveCount(0)

  const parts = await sql<{ n: number }>('SELECT count(*)::int AS n FROM app.job_file_parts WHERE job_id = $1', [jobId])
  expect(parts[0]!.n).toBe(0)
  const response = await page.request.get(`/downloads/${jobId}`)
  expect(response.status()).toBe(404)
})

test('my jobs are listed newest first and are still there after a reload', async ({ page, startExport }) => {
  const older = await startExport({ country: 'PT', minPopulation: '100000' })
  const olderId = await older.getAttribute('data-job-id')
  await expect(older.getByText('Completed', { exact: true })).toBeVisible()
  const newer = await startExport({ country: 'NZ', minPopulation: '100000' })
  const newerId = await newer.getAttribute('data-job-id')
  await expect(newer.getByText('Completed', { exact: true })).toBeVisible()

  await page.reload()
  const ids = await page
    .locator('li[data-job-id]')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-job-id')))
  expect(ids.indexOf(newerId)).toBeLessThan(ids.indexOf(olderId))
  expect(ids.indexOf(newerId)).toBeGreaterThanOrEqual(0)
})

test('a form mistake is shown next to its field and starts no job', async ({ page }) => {
  const count = await page.locator('li[data-job-id]').count()
  await page.getByLabel('Country').fill('Brazil')
  await page.getByLabel('Minimum population').fill('-5')
  await page.getByRole('button', { name: 'Start export' }).click()
  await expect(page.getByText('Use a two-letter country code, like BR.')).toBeVisible()
  await expect(page.getByText('Must be 0 or more.')).toBeVisible()
  await expect(page.getByLabel('Country')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.locator('li[data-job-id]')).toHaveCount(count)
})

test('another person (another browser) sees none of my jobs and cannot download my file', async ({
  page,
  startExport,
  browser,
}) => {
  const job = await startExport({ country: 'IS' })
  const jobId = await job.getAttribute('data-job-id')
  await expect(job.getByText('Completed', { exact: true })).toBeVisible()

  const other = await browser.newContext()
  const otherPage = await other.newPage()
  await otherPage.goto('/')
  await expect(otherPage.getByRole('status')).toHaveText('Live')
  await expect(otherPage.locator(`li[data-job-id="${jobId}"]`)).toHaveCount(0)
  const response = await otherPage.request.get(`/downloads/${jobId}`)
  expect(response.status()).toBe(404)
  expect(await page.request.get(`/downloads/${jobId}`).then((r) => r.status())).toBe(200)
  await other.close()
})
