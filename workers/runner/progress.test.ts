import { describe, expect, it } from 'vitest'
import { cleanProgress } from './progress'

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
