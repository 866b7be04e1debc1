/**
 * Every page on a 390 px wide phone: usable without scrolling sideways. Screenshots of each page
 * are kept in the test's output folder (test-results/) for a person to look at.
 */
import { expect, expectJobState, test } from './fixtures'

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })

/** Fails with the widest elements named when the page is wider than the screen. */
async function expectNoSidewaysScroll(page: import('@playwright/test').Page, name: string) {
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
    return { scrollWidth: document.documentElement.scrollWidth, width, wide }
  })
  expect(overflow.scrollWidth, `${name} scrolls sideways; too wide: ${overflow.wide.join(', ')}`).toBeLessThanOrEqual(
    overflow.width,
  )
}

test('every page fits a 390 px wide phone without scrolling sideways', async ({ page, browser, startExport }, info) => {
  // Seven pages, an export and an operator sign-in: three times the usual budget.
  test.slow()
  await page.goto('/')
  await expect(page.getByRole('status')).toHaveText('Live')
  const job = await startExport({ country: 'AD' })
  const jobId = (await job.getAttribute('data-job-id'))!
  await expectJobState(page, jobId, 'completed')
  const shoot = async (name: string) => {
    await expectNoSidewaysScroll(page, name)
    await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true })
  }
  await shoot('dashboard')
  await page.goto('/jobs')
  await expect(page.locator(`tr[data-job-id="${jobId}"]`)).toBeVisible()
  await shoot('history')
  await page.goto(`/jobs/${jobId}`)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Cities · AD')
  await shoot('job')
  await page.goto('/emails')
  await shoot('emails')
  await page.goto('/imports')
  await expect(page.getByLabel('CSV file')).toBeVisible()
  await shoot('imports')

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })
  const operator = await context.newPage()
  await operator.goto('/admin/jobs')
  await expect(operator).toHaveURL(/\/admin\/login$/)
  await expectNoSidewaysScroll(operator, 'operator sign-in')
  await operator.getByLabel('Operator password').fill('e2e-operator-password')
  await operator.getByRole('button', { name: 'Sign in' }).click()
  await expect(operator).toHaveURL(/\/admin\/jobs$/)
  await expect(operator.locator(`tr[data-job-id="${jobId}"]`).first()).toBeVisible()
  await expectNoSidewaysScroll(operator, 'operator jobs')
  await operator.screenshot({ path: info.outputPath('operator.png'), fullPage: true })
  await context.close()
})
