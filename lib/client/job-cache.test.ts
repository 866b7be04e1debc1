import { describe, expect, it } from 'vitest'
import type { JobPage } from '@/lib/jobs/history'
import type { JobSnapshot } from '@/lib/jobs/job'
import { applyToPage, mergeJob, mergePages, newer } from './job-cache'

function snap(over: Partial<JobSnapshot>): JobSnapshot {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    queue: 'exports',
    state: 'active',
    payload: {},
    progress: null,
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 3,
    cancelRequested: false,
    cancelledBy: null,
    retryAt: null,
    createdAt: '2026-11-30T05:00:00.000Z',
    startedAt: '2026-11-30T05:00:01.000Z',
    settledAt: null,
    seq: 1,
    ...over,
  }
}

describe('newer', () => {
  it('keeps the snapshot with the higher seq, whichever arrives last', () => {
    const a = snap({ seq: 5, progress: { current: 10, total: 100, message: 'a' } })
    const b = snap({ seq: 7, progress: { current: 20, total: 100, message: 'b' } })
    expect(newer(a, b)).toBe(b)
    expect(newer(b, a)).toBe(b)
    expect(newer(undefined, a)).toBe(a)
  })

  it('never shows progress going back within an attempt, but takes the rest of the newer snapshot', () => {
    const shown = snap({ seq: 9, progress: { current: 128, total: 200, message: 'Writing 128' } })
    const late = snap({ seq: 10, cancelRequested: true, progress: { current: 98, total: 200, message: 'Writing 98' } })
    const merged = newer(shown, late)
    expect(merged.progress).toEqual(shown.progress)
    expect(merged.cancelRequested).toBe(true)
    expect(merged.seq).toBe(10)
  })

  it('accepts progress that restarts with a new total, a new attempt, or a settled state', () => {
    const shown = snap({ seq: 9, progress: { current: 128, total: 200, message: '' } })
    expect(
      newer(shown, snap({ seq: 10, progress: { current: 0, total: 50, message: 'phase 2' } })).progress?.current,
    ).toBe(0)
    expect(
      newer(shown, snap({ seq: 10, attempt: 2, progress: { current: 3, total: 200, message: '' } })).progress?.current,
    ).toBe(3)
    expect(
      newer(shown, snap({ seq: 10, state: 'queued', progress: { current: 98, total: 200, message: '' } })).state,
    ).toBe('queued')
  })
})

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'
const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'

function page(jobs: JobSnapshot[], asOf = '2026-11-30T07:00:00.000Z'): JobPage {
  return { jobs, nextCursor: null, asOf }
}

describe('mergeJob', () => {
  it("keeps fields an event does not carry (an operator row's owner) when the event is newer", () => {
    const row = { ...snap({ seq: 3 }), ownerId: 'owner-1' }
    const merged = mergeJob(row, snap({ seq: 4, state: 'completed' }))
    expect(merged).toMatchObject({ state: 'completed', seq: 4, ownerId: 'owner-1' })
    expect(mergeJob(row, snap({ seq: 2 }))).toBe(row)
  })
})

describe('applyToPage', () => {
  const older = snap({ id: A, createdAt: '2026-11-30T05:00:00.000Z', seq: 1 })
  const younger = snap({ id: B, createdAt: '2026-11-30T06:00:00.000Z', seq: 2 })

  it('inserts a new job newest first and updates a known one by seq', () => {
    const list = applyToPage(applyToPage(page([]), older, {}), younger, {})
    expect(list.jobs.map((j) => j.id)).toEqual([B, A])
    const stale = { ...older, seq: 0, state: 'queued' as const }
    expect(applyToPage(list, stale, {})).toBe(list)
  })

  it('drops a job that stops matching a state filter, and never adds one to an older page', () => {
    const running = page([snap({ id: A, state: 'active', seq: 5 })])
    expect(applyToPage(running, snap({ id: A, state: 'completed', seq: 6 }), { state: 'active' }).jobs).toEqual([])
    expect(applyToPage(page([]), younger, { cursor: 'x' }).jobs).toEqual([])
    expect(applyToPage(page([]), younger, { queue: 'emails' }).jobs).toEqual([])
  })

  it('keeps at most `limit` jobs', () => {
    const full = page([younger])
    const newest = snap({ id: C, createdAt: '2026-11-30T06:30:00.000Z' })
    expect(applyToPage(full, newest, { limit: 1 }).jobs.map((j) => j.id)).toEqual([C])
  })
})

describe('mergePages', () => {
  it('does not let a read undo an event that arrived while it was in flight', () => {
    const viaEvent = page([snap({ id: A, seq: 8, state: 'completed' })], '2026-11-30T06:59:00.000Z')
    const fromServer = page([snap({ id: A, seq: 6, state: 'active' })])
    expect(mergePages(fromServer, viaEvent, {})!.jobs).toEqual(viaEvent.jobs)
  })

  it('lets a later read decide membership, except jobs created after it was read', () => {
    const cached = page(
      [
        snap({ id: C, createdAt: '2026-11-30T07:00:01.000Z', seq: 9 }),
        snap({ id: B, createdAt: '2026-11-30T06:00:00.000Z', seq: 2, state: 'active' }),
      ],
      '2026-11-30T06:30:00.000Z',
    )
    // Read at 07:00 with a state filter: B has completed since (gone), C was created after the read.
    const later = page([snap({ id: A, state: 'active', seq: 4 })], '2026-11-30T07:00:00.000Z')
    const merged = mergePages(cached, later, { state: 'active' })!
    expect(merged.jobs.map((j) => j.id)).toEqual([C, A])
    expect(merged.asOf).toBe(later.asOf)
  })

  it('shows a server render that is newer than a cache left from an earlier visit', () => {
    const leftBehind = page([snap({ id: A, seq: 3, state: 'active' })], '2026-11-30T06:00:00.000Z')
    const rendered = page([snap({ id: A, seq: 7, state: 'completed' })], '2026-11-30T06:05:00.000Z')
    expect(mergePages(leftBehind, rendered, {})!.jobs[0]!.state).toBe('completed')
    expect(mergePages(undefined, rendered, {})).toBe(rendered)
  })
})
