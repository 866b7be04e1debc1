'use client'
import { useEffect, useState } from 'react'
import { cancelJob } from '@/app/actions'
import { describeJob } from '@/lib/jobs/describe'
import { ExportResult } from '@/lib/jobs/exports'
import { IMPORTS_QUEUE } from '@/lib/jobs/imports'
import { isCancellable, stateLabel, type JobSnapshot } from '@/lib/jobs/job'
import { useRememberJob } from '@/lib/client/use-jobs'
import { ImportResultView } from './import-result'

const numbers = new Intl.NumberFormat('en-US')
const describe = describeJob

const CANCELLED_BY = {
  owner: 'Cancelled by you.',
  operator: 'Cancelled by an operator.',
  system: 'Cancelled by the system.',
} as const

/** The current time, ticking every second while `enabled` (for "retrying in 8 s"). */
function useNow(enabled: boolean): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!enabled) return
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [enabled])
  return now
}

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

/** One job as a card: state, progress bar, message, Cancel and Download. */
export function JobItem({ job }: { job: JobSnapshot }) {
  const remember = useRememberJob()
  const [cancelError, setCancelError] = useState<string | null>(null)
  const [cancelling, setCancelling] = useState(false)
  const label = stateLabel(job)
  const progress = job.progress
  const determinate = progress !== null && progress.total > 0
  const result = job.state === 'completed' ? ExportResult.safeParse(job.result) : null
  const retryAt = job.state === 'queued' && job.retryAt ? Date.parse(job.retryAt) : null
  const now = useNow(retryAt !== null)
  const percent = determinate
    ? Math.round((100 * progress.current) / progress.total)
    : job.state === 'completed'
      ? 100
      : 0

  async function onCancel() {
    setCancelling(true)
    setCancelError(null)
    const outcome = await cancelJob({ jobId: job.id })
    setCancelling(false)
    if (outcome.ok) remember(outcome.value.job)
    else setCancelError(outcome.error.message)
  }

  return (
    <li className={`job job-${job.state}`} data-job-id={job.id} data-state={job.state} aria-label={describe(job)}>
      <div className="job-head">
        <span className="job-title">{describe(job)}</span>
        <span className={`state state-${label.toLowerCase()}`}>{label}</span>
      </div>
      <div
        role="progressbar"
        aria-label={job.queue === IMPORTS_QUEUE ? 'Import progress' : 'Export progress'}
        aria-valuemin={0}
        aria-valuemax={determinate ? progress.total : undefined}
        aria-valuenow={determinate ? progress.current : undefined}
        aria-valuetext={
          determinate ? `${numbers.format(progress.current)} of ${numbers.format(progress.total)}` : label
        }
        className={`bar${determinate || job.state !== 'active' ? '' : ' bar-indeterminate'}`}
      >
        <div className="bar-fill" style={{ width: `${percent}%` }} />
      </div>
      <div className="job-foot">
        <span className="job-message">
          {progress?.message ?? (job.state === 'queued' ? 'Waiting for a worker…' : '')}
        </span>
        {job.attempt > 1 && (
          <span className="attempt">
            attempt {job.attempt} of {job.maxAttempts}
          </span>
        )}
        <span className="job-actions">
          {isCancellable(job) && (
            <button type="button" className="secondary" onClick={onCancel} disabled={cancelling}>
              Cancel
            </button>
          )}
          {result?.success &&
            (result.data.expiresAt && Date.parse(result.data.expiresAt) <= now ? (
              <span className="muted">Download expired</span>
            ) : (
              <a className="button" href={result.data.downloadUrl} download={result.data.fileName}>
                Download <span className="muted">({numbers.format(result.data.rows)} rows)</span>
              </a>
            ))}
        </span>
      </div>
      {job.queue === IMPORTS_QUEUE && <ImportResultView job={job} />}
      {job.state === 'failed' && job.error && (
        <p className="job-error">
          {job.error.message}
          {job.error.ref ? ` (reference ${job.error.ref})` : ''}
        </p>
      )}
      {job.state === 'queued' && job.error && (
        <p className="job-error">
          Attempt {job.attempt} of {job.maxAttempts} failed: {job.error.message}{' '}
          {retryAt !== null &&
            (retryAt > now ? `Retrying in ${Math.ceil((retryAt - now) / 1000)} s.` : 'Retrying now.')}
        </p>
      )}
      {job.state === 'cancelled' && job.cancelledBy && <p className="job-note">{CANCELLED_BY[job.cancelledBy]}</p>}
      {cancelError && (
        <p className="job-error" role="alert">
          {cancelError}
        </p>
      )}
    </li>
  )
}
