import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AttemptRef } from '@/lib/server/pgboss'
import { Heartbeats } from './heartbeats'

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() }

afterEach(() => {
  vi.useRealTimers()
})

describe('Heartbeats', () => {
  it('touches every running attempt of the queue in one call per interval, and reports the ones pg-boss dropped', async () => {
    vi.useFakeTimers()
    const running: AttemptRef[] = [
      { id: 'a', retryCount: 0 },
      { id: 'b', retryCount: 1 },
      { id: 'c', retryCount: 0 },
    ]
    const touch = vi.fn(async (attempts: AttemptRef[]) => new Set(attempts.map((a) => a.id).filter((id) => id !== 'b')))
    const lost: AttemptRef[] = []
    const heartbeats = new Heartbeats({
      intervalMs: 5_000,
      running: () => running,
      touch,
      onLost: (a) => lost.push(a),
      log,
    })
    heartbeats.start()
    await vi.advanceTimersByTimeAsync(4_999)
    expect(touch).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(touch).toHaveBeenCalledTimes(1)
    expect(touch).toHaveBeenCalledWith(running)
    expect(lost).toEqual([{ id: 'b', retryCount: 1 }])
    await vi.advanceTimersByTimeAsync(5_000)
    expect(touch).toHaveBeenCalledTimes(2)
    heartbeats.stop()
    await vi.advanceTimersByTimeAsync(20_000)
    expect(touch).toHaveBeenCalledTimes(2)
  })

  it('sends nothing while nothing runs, and survives a failed touch', async () => {
    vi.useFakeTimers()
    let running: AttemptRef[] = []
    const touch = vi.fn(async () => {
      throw new Error('connection refused')
    })
    const onLost = vi.fn()
    const heartbeats = new Heartbeats({ intervalMs: 1_000, running: () => running, touch, onLost, log })
    heartbeats.start()
    await vi.advanceTimersByTimeAsync(3_000)
    expect(touch).not.toHaveBeenCalled()
    running = [{ id: 'a', retryCount: 0 }]
    await vi.advanceTimersByTimeAsync(1_000)
    expect(touch).toHaveBeenCalledTimes(1)
    // A failed touch says nothing about the claim: no attempt is reported lost.
    expect(onLost).not.toHaveBeenCalled()
    expect(log.warn).toHaveBeenCalledWith(expect.stringMatching(/heartbeat for 1 job\(s\) failed/))
    heartbeats.stop()
  })
})
