import { describe, expect, it } from 'vitest'
import { formatAbsolute, formatRelative, relativeRefreshMs } from './time'

const now = Date.parse('2026-12-02T12:00:00Z')
const ago = (ms: number) => new Date(now - ms).toISOString()

describe('formatRelative', () => {
  it.each([
    [0, 'just now'],
    [9_999, 'just now'],
    [10_000, '10 s ago'],
    [59_999, '59 s ago'],
    [60_000, '1 min ago'],
    [2 * 60_000 + 30_000, '2 min ago'],
    [59 * 60_000, '59 min ago'],
    [3_600_000, '1 h ago'],
    [23 * 3_600_000, '23 h ago'],
    [24 * 3_600_000, 'yesterday'],
    [4 * 86_400_000, '4 days ago'],
    [29 * 86_400_000, '29 days ago'],
  ])('reads a time %d ms ago as %j', (ms, text) => {
    expect(formatRelative(ago(ms), now)).toBe(text)
  })

  it('gives the date from 30 days on', () => {
    expect(formatRelative('2026-10-01T08:00:00Z', now)).toBe('on 2026-10-01')
  })

  it('reads a time a little in the future (clock skew) as just now, and nonsense as nothing', () => {
    expect(formatRelative(new Date(now + 3_000).toISOString(), now)).toBe('just now')
    expect(formatRelative('not a time', now)).toBe('')
  })
})

describe('formatAbsolute', () => {
  it('shows UTC to the second', () => {
    expect(formatAbsolute('2026-11-30T05:00:02.123+01:00')).toBe('2026-11-30 04:00:02 UTC')
    expect(formatAbsolute('nope')).toBe('')
  })
})

describe('relativeRefreshMs', () => {
  it('refreshes every second under a minute, at the next minute under an hour, then hourly', () => {
    expect(relativeRefreshMs(ago(5_000), now)).toBe(1_000)
    expect(relativeRefreshMs(ago(90_000), now)).toBe(30_000)
    expect(relativeRefreshMs(ago(3_600_000 + 600_000), now)).toBe(3_000_000)
  })
})
