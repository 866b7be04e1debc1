import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { JobSnapshot } from '@/lib/jobs/job'
import { JobCard, jobMessage } from './job-card'
import { JobTable } from './job-table'
import { GenericValue } from './job-result'

const now = Date.parse('2026-12-02T12:00:00Z')
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString()

function job(overrides: Partial<JobSnapshot>): JobSnapshot {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    queue: 'exports',
    state: 'active',
    payload: { country: 'BR' },
    progress: { current: 12_000, total: 135_233, message: 'Writing 12,000 of 135,233 rows...' },
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 3,
    cancelRequested: false,
    cancelledBy: null,
    retryAt: null,
    createdAt: minutesAgo(3),
    startedAt: minutesAgo(2),
    settledAt: null,
    seq: 1,
    ...overrides,
  }
}

const render = (props: Parameters<typeof JobCard>[0]) => renderToStaticMarkup(createElement(JobCard, props))

describe('the final state replaces the last progress message', () => {
  it('says who cancelled, not how far the export had got', () => {
    const cancelled = job({ state: 'cancelled', cancelRequested: true, cancelledBy: 'owner', settledAt: minutesAgo(0) })
    expect(jobMessage(cancelled, now).text).toBe('Cancelled by you.')
    expect(render({ job: cancelled })).not.toContain('Writing 12,000')
  })

  it('shows a failure with its reference', () => {
    const failed = job({ state: 'failed', error: { code: 'EXCEPTION', message: 'It broke.', ref: 'ab12cd34' } })
    expect(jobMessage(failed, now)).toEqual({ text: 'It broke. (reference ab12cd34)', tone: 'error' })
  })

  it('shows the same error line with its reference on the card and in the operator’s table', () => {
    const failed = job({ state: 'failed', error: { code: 'EXPIRED', message: 'Too long.', ref: 'ab12cd34' } })
    const line = '<p class="job-message job-error">Too long. (reference ab12cd34)</p>'
    expect(render({ job: failed })).toContain(line)
    const table = (showErrors: boolean) =>
      renderToStaticMarkup(createElement(JobTable, { jobs: [failed], showOwner: true, showErrors }))
    expect(table(true)).toContain('<p class="job-error">Too long. (reference ab12cd34)</p>')
    expect(table(false)).not.toContain('Too long.')
  })

  it('keeps the progress message while the job runs, and counts down a retry', () => {
    expect(jobMessage(job({}), now).text).toBe('Writing 12,000 of 135,233 rows...')
    const retrying = job({
      state: 'queued',
      attempt: 1,
      error: { code: 'EXCEPTION', message: 'Timeout.' },
      retryAt: new Date(now + 8_000).toISOString(),
    })
    expect(jobMessage(retrying, now).text).toBe('Attempt 1 of 3 failed: Timeout. Retrying in 8 s.')
  })
})

describe('JobCard', () => {
  it('keeps the accessible contract: job id, state word, named progress bar, Cancel only when offered', () => {
    const html = render({ job: job({}), onCancel: () => undefined })
    expect(html).toContain('data-job-id="11111111-1111-4111-8111-111111111111"')
    expect(html).toContain('data-state="active"')
    expect(html).toContain('role="progressbar"')
    expect(html).toContain('aria-label="Export progress"')
    expect(html).toContain('>Running<')
    expect(html).toContain('>Cancel</button>')
    expect(render({ job: job({}) })).not.toContain('Cancel</button>')
  })

  it('links the title to the job page and shows when it started, relative and absolute', () => {
    const html = render({ job: job({}) })
    expect(html).toContain('href="/jobs/11111111-1111-4111-8111-111111111111"')
    expect(html).toContain('Cities · BR')
    expect(html).toMatch(
      /Started <time dateTime="[^"]+" title="\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC">2 min ago<\/time>/,
    )
  })

  it('offers a Download and the queue’s own result for a completed export, and no Download otherwise', () => {
    const done = job({
      state: 'completed',
      settledAt: minutesAgo(1),
      result: { fileName: 'cities-1.csv', rows: 12, bytes: 2_048, downloadUrl: '/downloads/1' },
    })
    const html = render({ job: done })
    expect(html).toContain('href="/downloads/1"')
    expect(html).toMatch(/>Download<span class="muted"> \(12 rows\)<\/span><\/a>/)
    expect(html).toContain('12 rows in cities-1.csv (2 kB)')
    expect(html).toContain('Finished <time')

    const email = job({
      queue: 'deferred',
      payload: { action: 'send_welcome_email', input: { email: 'ada@example.com' } },
      progress: null,
      state: 'completed',
      settledAt: minutesAgo(1),
      result: { messageId: '<m1@example.com>', sentAt: '2026-12-02T11:59:00Z' },
    })
    const generic = render({ job: email })
    expect(generic).not.toContain('Download')
    expect(generic).toContain('Welcome email to ada@example.com')
    expect(generic).toContain('aria-label="Deferred action progress"')
    // The generic renderer: fields in words, never JSON.
    expect(generic).toContain('<dt>Message id</dt><dd>&lt;m1@example.com&gt;</dd>')
    expect(generic).toContain('<dt>Sent at</dt><dd>2026-12-02 11:59:00 UTC</dd>')
    expect(generic).not.toContain('{&quot;')
  })

  it('lists the fields of a nested object one level deep, so an input shows its values', () => {
    const html = renderToStaticMarkup(
      createElement(GenericValue, { value: { action: 'send_welcome_email', input: { email: 'ada@example.com' } } }),
    )
    expect(html).toContain('<dt>Action</dt><dd>send_welcome_email</dd>')
    expect(html).toContain('<dt>Input email</dt><dd>ada@example.com</dd>')
    expect(renderToStaticMarkup(createElement(GenericValue, { value: {}, empty: 'None.' }))).toContain('None.')
  })

  it('shows an expired download as expired', () => {
    const done = job({
      state: 'completed',
      settledAt: minutesAgo(60 * 25),
      result: {
        fileName: 'cities-1.csv',
        rows: 12,
        bytes: 2_048,
        downloadUrl: '/downloads/1',
        expiresAt: minutesAgo(60),
      },
    })
    const html = render({ job: done })
    expect(html).toContain('Download expired')
    expect(html).not.toContain('href="/downloads/1"')
  })
})
