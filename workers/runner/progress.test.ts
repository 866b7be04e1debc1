import { describe, expect, it, vi } from 'vitest'
import type { JobProgress } from '@/lib/jobs/job'
import { ProgressTracker, cleanProgress } from './progress'

describe('cleanProgress', () => {
  it('calls a message function with the report it belongs to, only when asked', () => {
    let calls = 0
    const report = {
      current: 52_000,
      total: 135_233,
      message: ({ current, total }: { current: number; total: number }) => {
        calls++
        return `Writing ${current} of ${total}`
      },
    }
    expect(calls).toBe(0)
    expect(cleanProgress(report)).toEqual({ current: 52_000, total: 135_233, message: 'Writing 52000 of 135233' })
    expect(calls).toBe(1)
  })

  it('turns a message function that throws into an empty message instead of an error', () => {
    expect(
      cleanProgress({
        current: 1,
        total: 2,
        message: () => {
          throw new Error('boom')
        },
      }).message,
    ).toBe('')
  })

  it('keeps numbers whole and non-negative', () => {
    expect(cleanProgress({ current: -3.7, total: Number.NaN, message: 'x' })).toEqual({
      current: 0,
      total: 0,
      message: 'x',
    })
    expect(cleanProgress({ current: 4.9, total: 10.2, message: 'x' })).toEqual({ current: 4, total: 10, message: 'x' })
  })
})

describe('ProgressTracker', () => {
  it('keeps only the latest report, samples it on its timers, and publishes nothing once closed', async () => {
    vi.useFakeTimers()
    try {
      const writes: JobProgress[] = []
      const emits: JobProgress[] = []
      const tracker = new ProgressTracker(
        { progressEmitMs: 100, progressWriteMs: 1_000 },
        { write: (p) => writes.push(p), emit: (p) => emits.push(p) },
      )
      expect(tracker.latest()).toBeNull()
      let formatted = 0
      const message = ({ current, total }: { current: number; total: number }) => {
        formatted++
        return `${current} of ${total}`
      }
      for (let i = 1; i <= 10_000; i++) tracker.report(i, 10_000, message)
      // Formatting happens when a sample is taken, not per report.
      expect(formatted).toBe(0)
      await vi.advanceTimersByTimeAsync(0)
      expect(emits).toEqual([{ current: 10_000, total: 10_000, message: '10000 of 10000' }])
      // The positional form keeps total and message when they are left out.
      tracker.report(5)
      await vi.advanceTimersByTimeAsync(100)
      expect(emits.at(-1)).toEqual({ current: 5, total: 10_000, message: '5 of 10000' })
      expect(formatted).toBe(2)
      tracker.report(6)
      expect(tracker.close()).toEqual({ current: 6, total: 10_000, message: '6 of 10000' })
      tracker.report(7)
      await vi.advanceTimersByTimeAsync(5_000)
      expect(emits.at(-1)?.current).toBe(5)
      expect(writes.every((p) => p.current !== 7)).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})
