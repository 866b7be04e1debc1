'use client'
import { useRouter } from 'next/navigation'
import { useEffect, useRef } from 'react'
import type { JobPage } from '@/lib/jobs/history'
import { isSettled } from '@/lib/jobs/job'
import { useJobs } from '@/lib/client/use-jobs'

/**
 * Re-renders the page from the server when another of the listed jobs settles: for what the page
 * shows besides jobs (the sent messages). It watches the live list (the same cache as the page's
 * job table), so a job that settled while the socket was still connecting counts too.
 */
export function RefreshWhenSettled({ queue, limit, initial }: { queue: string; limit: number; initial?: JobPage }) {
  const router = useRouter()
  const { data: jobs } = useJobs({ queue, limit }, { initial })
  const settled = jobs
    .filter((job) => isSettled(job.state))
    .map((job) => job.id)
    .sort()
    .join(' ')
  const shown = useRef(settled)
  useEffect(() => {
    if (settled === shown.current) return
    shown.current = settled
    router.refresh()
  }, [settled, router])
  return null
}
