'use client'
import { useEffect, useState } from 'react'

/**
 * The current time (ms since the epoch), updated every `everyMs` (default 1000), or `null` during
 * the server render and hydration: a time read there would differ between server and browser.
 */
export function useClock(everyMs = 1_000): number | null {
  const [now, setNow] = useState<number | null>(null)
  useEffect(() => {
    const tick = () => setNow(Date.now())
    const first = setTimeout(tick, 0)
    const timer = setInterval(tick, everyMs)
    return () => {
      clearTimeout(first)
      clearInterval(timer)
    }
  }, [everyMs])
  return now
}
