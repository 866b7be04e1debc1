import { parse } from 'csv-parse/sync'
import { readFile } from 'node:fs/promises'
import type { Locator, Page } from '@playwright/test'
import { expect, expectJobState, test } from './fixtures'

const HEADER = 'id,name,country,admin_code,population,latitude,longitude'

/** A CSV of `rows` generated valid cities, CRLF, with a BOM, as a spreadsheet would save it. */
function citiesCsv(rows: number): Buffer {
  const lines = [HEADER]
  for (let i = 1; i <= rows; i++) lines.push(`${i},Generated City ${i},BR,27,${i * 10},-23.5,-46.6`)
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`)
}

/** Chooses `file` in the import form, starts it, and returns the new import's list item. */
async function startImport(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }) {
  const before = await page
    .locator('li[data-job-id]')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-job-id')))
  await page.getByLabel('CSV file').setInputFiles(file)
  await page.getByRole('button', { name: 'Start import' }).click()
  const item = page.locator('li[data-job-id]').first()
  await expect(item).not.toHaveAttribute('data-job-id', new RegExp(`^(${before.join('|') || '-'})$`))
  return item
}

async function jobIdOf(item: Locator): Promise<string> {
  const id = await item.getAttribute('data-job-id')
  if (!id) throw new Error('the job item has no data-job-id')
  return id
}

async function openImports(page: Page) {
  await page.goto('/imports')
  await expect(page.getByRole('status')).toHaveText('Live')
}

test('I export cities, download the file, upload it as an import, and the same number of rows is imported', async ({
  page,
  startExport,
  sql,
}) => {
  const counted = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM app.cities WHERE country = 'PT'`)
  const expected = counted[0]!.n
  expect(expected).toBeGreaterThan(100)

  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
  const exportJob = await startExport({ country: 'PT' })
  await expect(exportJob.getByText('Completed', { exact: true })).toBeVisible()
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    exportJob.getByRole('link', { name: /Download/ }).click(),
  ])
  const exported = await download.path()

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click()
  await expect(page.getByRole('heading', { name: 'Imports', level: 1 })).toBeVisible()
  await expect(page.getByRole('status')).toHaveText('Live')
  const job = await startImport(page, { name: 'cities-pt.csv', mimeType: 'text/csv', buffer: await readFile(exported) })
  const jobId = await jobIdOf(job)
  await expect(job.getByRole('progressbar', { name: 'Import progress' })).toBeVisible()
  await expectJobState(page, jobId, 'completed')
  await expect(job.getByText('Completed', { exact: true })).toBeVisible()
  await expect(job.getByText(`Imported ${expected.toLocaleString('en-US')} rows`)).toBeVisible()
  await expect(job.getByText(/Rejected/)).toHaveCount(0)
  await expect(job.getByRole('link', { name: 'Download rejected rows' })).toHaveCount(0)

  // The rows, a page at a time, in the file's order.
  await job.getByRole('link', { name: 'View imported rows' }).click()
  await expect(page).toHaveURL(new RegExp(`/imports/${jobId}$`))
  const table = page.getByRole('table')
  await expect(table).toContainText(`Rows 2 to 51 of the file · ${expected.toLocaleString('en-US')} imported in all`)
  await expect(table.getByRole('row')).toHaveCount(51)
  await page.getByRole('link', { name: 'Next rows' }).click()
  await expect(table).toContainText('Rows 52 to 101 of the file')
  await page.getByRole('link', { name: 'Previous rows' }).click()
  await expect(table).toContainText('Rows 2 to 51 of the file')

  // And the import is in the job history with the other queues' jobs.
  await page.goto('/jobs?queue=imports')
  await expect(page.locator(`[data-job-id="${jobId}"]`).first()).toBeVisible()
})

test('a file with bad rows reports each one by its row number, and the rejected rows download parses back', async ({
  page,
}) => {
  await openImports(page)
  const csv = [
    HEADER,
    '1,Good One,BR,27,100,-23.5,-46.6',
    'one,Bad Id,BR,27,100,-23.5,-46.6',
    '2,Bad Country,Brazil,27,100,-23.5,-46.6',
    '3,Good Two,IS,,5,64.1,-21.9',
    '4,Too Far North,BR,27,100,95,-46.6',
  ].join('\n')
  const job = await startImport(page, { name: 'mixed.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await expect(job.getByText('Completed', { exact: true })).toBeVisible()
  await expect(job.getByText('Imported 2 rows')).toBeVisible()
  await expect(job.getByText('Rejected 3 rows')).toBeVisible()

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    job.getByRole('link', { name: 'Download rejected rows' }).click(),
  ])
  expect(download.suggestedFilename()).toBe('rejected-mixed.csv')
  const text = await readFile(await download.path(), 'utf8')
  expect(text.charCodeAt(0)).toBe(0xfeff)
  const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[]
  expect(rows.map((r) => [r.row, r.reason, r.name])).toEqual([
    ['3', 'id: Must be a whole number.', 'Bad Id'],
    ['4', 'country: Use a two-letter country code, like BR.', 'Bad Country'],
    ['6', 'latitude: Must be between -90 and 90.', 'Too Far North'],
  ])
})

test('I cancel an import mid-way and my imported rows are exactly as they were before', async ({ page, sql }) => {
  await openImports(page)
  const first = await startImport(page, { name: 'first.csv', mimeType: 'text/csv', buffer: citiesCsv(3) })
  const firstId = await jobIdOf(first)
  await expect(first.getByText('Imported 3 rows')).toBeVisible()
  const mine = `SELECT job_id, row_number, id, name FROM app.imported_cities
                 WHERE owner_id = (SELECT owner_id FROM app.jobs WHERE id = $1) ORDER BY job_id, row_number`
  const before = await sql(mine, [firstId])
  expect(before).toHaveLength(3)

  // 40,000 rows at the e2e rate cap (IMPORT_ROWS_PER_SECOND) take seconds: time to watch and cancel.
  const job = await startImport(page, { name: 'big.csv', mimeType: 'text/csv', buffer: citiesCsv(40_000) })
  const jobId = await jobIdOf(job)
  await expect(job.getByText(/Read [\d,]+ rows: [\d,]+ imported, 0 rejected/)).toBeVisible()
  const staged = await sql<{ n: number }>('SELECT count(*)::int AS n FROM app.import_staged_cities WHERE job_id = $1', [
    jobId,
  ])
  expect(staged[0]!.n).toBeGreaterThan(0)
  await job.getByRole('button', { name: 'Cancel' }).click()
  await expect(job.getByText('Cancelled', { exact: true })).toBeVisible()
  await expect(job.getByText(/Imported/)).toHaveCount(0)

  expect(await sql(mine, [firstId])).toEqual(before)
  const left = await sql<{ n: number }>('SELECT count(*)::int AS n FROM app.import_staged_cities WHERE job_id = $1', [
    jobId,
  ])
  expect(left[0]!.n).toBe(0)
  expect((await page.request.get(`/imports/${jobId}/rejected`)).status()).toBe(404)
})

test('another person (another browser) sees none of my import: not the job, not its rows, not its rejected rows', async ({
  page,
  browser,
}) => {
  await openImports(page)
  const job = await startImport(page, {
    name: 'private.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`${HEADER}\n1,Mine,BR,,1,2,3\nbad,Row,BR,,1,2,3\n`),
  })
  const jobId = await jobIdOf(job)
  await expect(job.getByText('Rejected 1 row')).toBeVisible()
  expect((await page.request.get(`/imports/${jobId}/rejected`)).status()).toBe(200)

  const other = await browser.newContext()
  const otherPage = await other.newPage()
  await openImports(otherPage)
  await expect(otherPage.locator(`li[data-job-id="${jobId}"]`)).toHaveCount(0)
  await expect(otherPage.getByText('No imports yet. Choose a file above.')).toBeVisible()
  expect((await otherPage.request.get(`/imports/${jobId}/rejected`)).status()).toBe(404)
  expect((await otherPage.request.get(`/imports/${jobId}`)).status()).toBe(404)
  expect((await otherPage.request.get(`/jobs/${jobId}`)).status()).toBe(404)
  await otherPage.goto('/jobs?queue=imports')
  await expect(otherPage.locator(`[data-job-id="${jobId}"]`)).toHaveCount(0)
  await other.close()
})

test('a file over the size limit and a file that is not CSV get an error on the file field and start no import', async ({
  page,
}) => {
  await openImports(page)
  const field = page.getByLabel('CSV file')
  // IMPORT_MAX_BYTES is 3 MiB in playwright.config.ts.
  await field.setInputFiles({ name: 'huge.csv', mimeType: 'text/csv', buffer: citiesCsv(70_000) })
  await page.getByRole('button', { name: 'Start import' }).click()
  await expect(page.getByText('The file is larger than 3 MB, the most an import accepts.')).toBeVisible()
  await expect(field).toHaveAttribute('aria-invalid', 'true')
  await expect(page.locator('li[data-job-id]')).toHaveCount(0)

  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
  await field.setInputFiles({ name: 'photo.csv', mimeType: 'text/csv', buffer: png })
  await page.getByRole('button', { name: 'Start import' }).click()
  await expect(page.getByText('This is not a CSV file: it is not UTF-8 text.')).toBeVisible()
  await expect(field).toHaveAttribute('aria-invalid', 'true')

  await field.setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('email,name\na@b.c,A\n') })
  await page.getByRole('button', { name: 'Start import' }).click()
  await expect(page.getByText(/^The first row must be the header id,name,country/)).toBeVisible()
  await expect(page.locator('li[data-job-id]')).toHaveCount(0)
})
