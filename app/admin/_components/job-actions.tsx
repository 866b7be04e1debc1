'use client'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { operatorCancel, operatorRetry } from '@/app/admin/actions'
import { isCancellable, type JobSnapshot } from '@/lib/jobs/job'

/** Cancel (any cancellable job) and Retry (failed or cancelled) buttons for operators. */
export function OperatorJobActions({ job }: { job: JobSnapshot }) {
  const router = useRouter()
  const [error, setError] = useState<string | null>(null)
  const run = async (action: typeof operatorCancel) => {
    setError(null)
    const result = await action({ jobId: job.id })
    if (result.ok) router.refresh()
    else setError(result.error.message)
  }
  return (
    <span className="job-actions">
      {isCancellable(job) && (
        <button type="button" className="secondary" onClick={() => run(operatorCancel)}>
          Cancel
        </button>
      )}
      {(job.state === 'failed' || job.state === 'cancelled') && (
        <button type="button" className="secondary" onClick={() => run(operatorRetry)}>
          Retry
        </button>
      )}
      {error && (
        <span role="alert" className="job-error">
          {error}
        </span>
      )}
    </span>
  )
}
