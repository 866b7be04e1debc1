'use client'
import { useRealtimeStatus } from '@/lib/client/jobs-provider'

/** The tab's realtime connection as one word people read ("Live"), announced politely as a `status`. */
export function LiveStatus() {
  const status = useRealtimeStatus()
  return (
    <span className={`live live-${status}`} role="status">
      {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline, reconnecting…'}
    </span>
  )
}
