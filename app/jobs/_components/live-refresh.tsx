'use client'
import type { JobSnapshot } from '@/lib/jobs/job'
import { useLiveRefresh } from '@/lib/client/use-live-refresh'

/** Re-renders the surrounding Server Component page when jobs change (one job, or any). */
export function LiveRefresh({ jobId, operator = false }: { jobId?: string; operator?: boolean }) {
  useLiveRefresh((job: JobSnapshot) => jobId === undefined || job.id === jobId, { operator })
  return null
}
