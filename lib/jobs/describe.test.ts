import { describe, expect, it } from 'vitest'
import { elapsedMs, formatDuration } from './describe'

describe('durations', () => {
  it('reads as people write them', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(12_400)).toBe('12 s')
    expect(formatDuration(184_000)).toBe('3 min 4 s')
    expect(formatDuration(7_500_000)).toBe('2 h 5 min')
  })

  it('counts to the settle time, or to now while running', () => {
    expect(elapsedMs('2026-11-30T05:00:00Z', '2026-11-30T05:00:02Z')).toBe(2_000)
    expect(elapsedMs('2026-11-30T05:00:00Z', null, Date.parse('2026-11-30T05:00:05Z'))).toBe(5_000)
  })
})
