/**
 * Playwright fixtures: `sql` runs a query against the test database (DATABASE_URL, set by
 * `npm run test:e2e`), and `startExport` fills and submits the export form and returns the new
 * job's list item.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test'
import pg from 'pg'

export interface ExportQuery {
  nameContains?: string
  country?: string
  minPopulation?: string
}

async function startExport(page: Page, query: ExportQuery): Promise<Locator> {
  const before = await page.locator('li[data-job-id]').evaluateAll((items) => items.map((li) => li.getAttribute('data-job-id')))
  await page.getByLabel('Name contains').fill(query.nameContains ?? '')
  await page.getByLabel('Country').fill(query.country ?? '')
  await page.getByLabel('Minimum population').fill(query.minPopulation ?? '')
  await page.getByRole('button', { name: 'Start export' }).click()
  const item = page.locator('li[data-job-id]').first()
  await expect(item).not.toHaveAttribute('data-job-id', new RegExp(`^(${before.join('|') || '-'})$`))
  return item
}

export const test = base.extend<{ sql: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>; startExport: (query: ExportQuery, page?: Page) => Promise<Locator> }>({
  sql: async ({}, provide) => {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
    await provide(async (text, values) => (await pool.query(text, values)).rows)
    await pool.end()
  },
  startExport: async ({ page }, provide) => {
    await provide((query, onPage = page) => startExport(onPage, query))
  },
})

export { expect }
