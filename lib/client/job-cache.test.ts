import { describe, expect, it } from 'vitest'
import type { JobSnapshot } from '@/lib/jobs/job'
import { mergeIntoList, mergeLists, newer } from './job-cache'

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

describe('lists', () => {
  it('inserts new jobs newest first and updates known ones by seq', () => {
    const older = snap({ id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', createdAt: '2026-11-30T05:00:00.000Z', seq: 1 })
    const younger = snap({ id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', createdAt: '2026-11-30T06:00:00.000Z', seq: 2 })
    const list = mergeIntoList(mergeIntoList([], older), younger)
    expect(list.map((j) => j.id)).toEqual([younger.id, older.id])
    const stale = { ...older, seq: 0, state: 'queued' as const }
    expect(mergeIntoList(list, stale)[1]).toBe(older)
  })

  it('does not let a refetch undo an event that arrived while it was in flight', () => {
    const viaEvent = snap({ seq: 8, state: 'completed' })
    const fromServer = snap({ seq: 6, state: 'active' })
    expect(mergeLists([viaEvent], [fromServer])).toEqual([viaEvent])
  })
})
