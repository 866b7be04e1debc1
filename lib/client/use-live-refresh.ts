'use client'
/**
 * For Server Component pages (history, job detail, operator view): re-render from the server when
 * a relevant `queue.job.changed` arrives, at most once a second, and after every reconnect.
 */
import { useRouter } from 'next/navigation'
import { useEffect, useRef } from 'react'
import { JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import { JobSnapshot } from '@/lib/jobs/job'
import { getSocket } from './socket'

export function useLiveRefresh(
  relevant: (job: JobSnapshot) => boolean = () => true,
  options: { operator?: boolean } = {},
): void {
  const router = useRouter()
  const relevantRef = useRef(relevant)
  useEffect(() => {
    relevantRef.current = relevant
  })
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null
    let last = 0
    const refresh = () => {
      if (timer) return
      timer = setTimeout(
        () => {
          timer = null
          last = Date.now()
          router.refresh()
        },
        Math.max(0, last + 1000 - Date.now()),
      )
    }
    let detach = () => {}
    let cancelled = false
    getSocket(options.operator ? 'operator' : 'viewer').then(
      (socket) => {
        if (cancelled) return
        const onChanged = (raw: unknown) => {
          const job = JobSnapshot.safeParse(raw)
          if (job.success && relevantRef.current(job.data)) refresh()
        }
        socket.on(JOB_CHANGED_EVENT, onChanged)
        socket.on('connect', refresh)
        detach = () => {
          socket.off(JOB_CHANGED_EVENT, onChanged)
          socket.off('connect', refresh)
        }
      },
      () => undefined,
    )
    return () => {
      cancelled = true
      detach()
      if (timer) clearTimeout(timer)
    }
  }, [router, options.operator])
}
