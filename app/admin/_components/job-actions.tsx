'use client'
import { useState } from 'react'
import { operatorRetry } from '@/lib/actions/operator'
import { isCancellable, type JobSnapshot } from '@/lib/jobs/job'
import { useCancelJob, useRememberJob } from '@/lib/client/use-job'

/** Cancel (any cancellable job) and Retry (failed or cancelled) buttons for operators. */
export function OperatorJobActions({ job }: { job: JobSnapshot }) {
  const cancel = useCancelJob('operator')
  const remember = useRememberJob('operator')
  const [error, setError] = useState<string | null>(null)
  const run = async (
    action: () => Promise<{ ok: true; value: { job: JobSnapshot } } | { ok: false; error: { message: string } }>,
  ) => {
    setError(null)
    const result = await action()
    // The answer shows at once; the events that follow keep it live.
    if (result.ok) remember(result.value.job)
    else setError(result.error.message)
  }
  return (
    <span className="job-actions">
      {isCancellable(job) && (
        <button type="button" className="secondary" onClick={() => run(() => cancel(job.id))}>
          Cancel
        </button>
      )}
      {(job.state === 'failed' || job.state === 'cancelled') && (
        <button type="button" className="secondary" onClick={() => run(() => operatorRetry({ jobId: job.id }))}>
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
