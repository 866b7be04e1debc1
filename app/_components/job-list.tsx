'use client'
import { useState } from 'react'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { ActionResult } from '@/lib/jobs/result'
import { JobCard } from './job-card'

/** Asks to cancel a job; resolves to the action's answer (its error message is shown as is). */
export type CancelJob = (jobId: string) => Promise<ActionResult<unknown>>

/** The viewer's jobs as cards, newest first. Data in, callbacks out: the live list comes from the caller. */
export function JobList({ jobs, onCancel }: { jobs: JobSnapshot[]; onCancel?: CancelJob }) {
  if (jobs.length === 0) return <p className="empty">No jobs yet. Start an export above.</p>
  return (
    <ul className="jobs" aria-label="Jobs">
      {jobs.map((job) => (
        <JobItem key={job.id} job={job} onCancel={onCancel} />
      ))}
    </ul>
  )
}

/**
 * One job as a `JobCard`, with Cancel wired to `onCancel` (shown only when it is given and the job is
 * cancellable) and the cancel request's state kept here.
 */
export function JobItem({
  job,
  onCancel,
  linkToPage,
  as,
}: {
  job: JobSnapshot
  onCancel?: CancelJob
  linkToPage?: boolean
  as?: 'li' | 'div'
}) {
  const [cancelError, setCancelError] = useState<string | null>(null)
  const [cancelling, setCancelling] = useState(false)

  async function cancel() {
    if (!onCancel) return
    setCancelling(true)
    setCancelError(null)
    const outcome = await onCancel(job.id)
    setCancelling(false)
    if (!outcome.ok) setCancelError(outcome.error.message)
  }

  return (
    <JobCard
      job={job}
      onCancel={onCancel ? cancel : undefined}
      cancelling={cancelling}
      cancelError={cancelError}
      linkToPage={linkToPage}
      as={as}
    />
  )
}
