'use client'
import { useState } from 'react'
import { cancelJob } from '@/app/actions'
import type { JobSnapshot } from '@/lib/jobs/job'
import { useRememberJob } from '@/lib/client/use-jobs'
import { JobCard } from './job-card'

export function JobList({ jobs }: { jobs: JobSnapshot[] }) {
  if (jobs.length === 0) return <p className="empty">No jobs yet. Start an export above.</p>
  return (
    <ul className="jobs" aria-label="Jobs">
      {jobs.map((job) => (
        <JobItem key={job.id} job={job} />
      ))}
    </ul>
  )
}

/** One of the viewer's jobs as a card, with a working Cancel (the `cancelJob` action). */
export function JobItem({ job, linkToPage }: { job: JobSnapshot; linkToPage?: boolean }) {
  const remember = useRememberJob()
  const [cancelError, setCancelError] = useState<string | null>(null)
  const [cancelling, setCancelling] = useState(false)

  async function onCancel() {
    setCancelling(true)
    setCancelError(null)
    const outcome = await cancelJob({ jobId: job.id })
    setCancelling(false)
    if (outcome.ok) remember(outcome.value.job)
    else setCancelError(outcome.error.message)
  }

  return (
    <JobCard job={job} onCancel={onCancel} cancelling={cancelling} cancelError={cancelError} linkToPage={linkToPage} />
  )
}
