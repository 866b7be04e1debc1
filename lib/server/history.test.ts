import { describe, expect, it } from 'vitest'
import type { JobSnapshot } from '@/lib/jobs/job'
import { encodeCursor, HistoryFilter, progressRate } from './history'

const base: JobSnapshot = {
  id: '11111111-1111-4111-8111-111111111111',
  queue: 'exports',
  state: 'active',
  payload: {},
  result: null,
  error: null,
  progress: { current: 30_000, total: 120_000, message: '' },
  attempt: 1,
  maxAttempts: 3,
  cancelRequested: false,
  cancelledBy: null,
  retryAt: null,
  createdAt: '2026-11-30T05:00:00.000Z',
  startedAt: '2026-11-30T05:00:00.000Z',
  settledAt: null,
  seq: 4,
}

describe('progressRate', () => {
  it('averages progress since the attempt started and estimates the time left at that rate', () => {
    const rate = progressRate(base, Date.parse('2026-11-30T05:00:10.000Z'))
    expect(rate).toEqual({ perSecond: 3_000, etaSeconds: 30 })
  })

  it('says nothing until there is something to measure, or once the job is not running', () => {
    const at = Date.parse('2026-11-30T05:00:10.000Z')
    expect(progressRate({ ...base, progress: { current: 0, total: 10, message: '' } }, at)).toBeNull()
    expect(progressRate({ ...base, progress: { current: 5, total: 0, message: '' } }, at)).toBeNull()
    expect(progressRate({ ...base, state: 'completed' }, at)).toBeNull()
    expect(progressRate({ ...base, startedAt: null }, at)).toBeNull()
  })
})

describe('history filters', () => {
  it('accepts the known states and queue names, and rejects anything else', () => {
    expect(HistoryFilter.safeParse({ state: 'failed', queue: 'exports' }).success).toBe(true)
    expect(HistoryFilter.safeParse({ state: 'exploded' }).success).toBe(false)
    expect(HistoryFilter.safeParse({ queue: 'x; DROP TABLE app.jobs' }).success).toBe(false)
    expect(HistoryFilter.safeParse({ page: '2' }).success).toBe(false)
  })

  it('makes opaque cursors that fit in a URL', () => {
    expect(encodeCursor(base)).toMatch(/^[A-Za-z0-9_-]+$/)
  })
})
