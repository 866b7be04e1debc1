/**
 * The Playwright test kit:
 * - `sql(text, values)` queries the test database (DATABASE_URL, set by `npm run test:e2e`);
 * - `startExport(query)` fills and submits the export form and returns the new job's list item;
 * - `jobEvents` records every `queue.job.changed` the page's socket receives (opt in by using it
 *   before `page.goto`): `jobEvents.of(jobId)` lists them in arrival order;
 * - `expectJobState(page, jobId, 'completed')` waits until the page shows the job in that state.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test'
import pg from 'pg'
import type { JobSnapshot, JobState } from '@/lib/jobs/job'

/** Events one page received, by job id. */
export interface JobEventRecorder {
  of(jobId: string): JobSnapshot[]
  all(): JobSnapshot[]
}

/**
 * Proxies the page's socket.io WebSocket (Playwright `routeWebSocket`) and records the
 * `queue.job.changed` frames (engine.io "4" + socket.io "2" + JSON [event, payload]).
 */
async function recordJobEvents(page: Page): Promise<JobEventRecorder> {
  const events: JobSnapshot[] = []
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer()
    ws.onMessage((message) => server.send(message))
    server.onMessage((message) => {
      if (typeof message === 'string' && message.startsWith('42')) {
        try {
          const [event, payload] = JSON.parse(message.slice(2)) as [string, JobSnapshot]
          if (event === 'queue.job.changed') events.push(payload)
        } catch {
          // not a JSON event frame: forward it untouched
        }
      }
      ws.send(message)
    })
  })
  return { of: (jobId) => events.filter((e) => e.id === jobId), all: () => [...events] }
}

/** Waits until the page shows job `jobId` in `state` (list item or table row `data-state`). */
export async function expectJobState(page: Page, jobId: string, state: JobState, timeout = 15_000): Promise<void> {
  await expect(page.locator(`[data-job-id="${jobId}"]`).first()).toHaveAttribute('data-state', state, { timeout })
}

export interface ExportQuery {
  nameContains?: string
  country?: string
  minPopulation?: string
}

async function startExport(page: Page, query: ExportQuery): Promise<Locator> {
  const before = await page
    .locator('li[data-job-id]')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-job-id')))
  await page.getByLabel('Name contains').fill(query.nameContains ?? '')
  await page.getByLabel('Country').fill(query.country ?? '')
  await page.getByLabel('Minimum population').fill(query.minPopulation ?? '')
  await page.getByRole('button', { name: 'Start export' }).click()
  const item = page.locator('li[data-job-id]').first()
  await expect(item).not.toHaveAttribute('data-job-id', new RegExp(`^(${before.join('|') || '-'})$`))
  return item
}

export const test = base.extend<{
  sql: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>
  startExport: (query: ExportQuery, page?: Page) => Promise<Locator>
  jobEvents: JobEventRecorder
}>({
  jobEvents: async ({ page }, provide) => {
    await provide(await recordJobEvents(page))
  },
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
