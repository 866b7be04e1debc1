import Link from 'next/link'
import { elapsedMs, formatDuration } from '@/lib/jobs/describe'
import { stateLabel, type JobSnapshot } from '@/lib/jobs/job'
import { queues } from '@/lib/jobs/registry'
import { formatAbsolute, formatRelative } from '@/lib/jobs/time'
import { JobErrorMessage } from './job-error'

/**
 * A table of jobs for history pages. `showOwner` adds the owner column (operators). `now` (ms) times
 * running jobs' durations; without it only settled jobs show one.
 */
export function JobTable({
  jobs,
  showOwner = false,
  actions,
  now = null,
  showErrors = false,
}: {
  jobs: (JobSnapshot & { ownerId?: string })[]
  showOwner?: boolean
  actions?: (job: JobSnapshot) => React.ReactNode
  now?: number | null
  /** Show why a job failed (or why its last attempt did) under its title. Default false. */
  showErrors?: boolean
}) {
  if (jobs.length === 0) return <p className="empty">No jobs match.</p>
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Queue</th>
          <th scope="col">State</th>
          <th scope="col">Progress</th>
          <th scope="col">Created</th>
          <th scope="col">Duration</th>
          {showOwner && <th scope="col">Owner</th>}
          {actions && (
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr key={job.id} data-job-id={job.id} data-state={job.state}>
            <td data-label="Job">
              <Link href={`/jobs/${job.id}`}>{queues.title(job)}</Link>
              {showErrors && job.error && <JobErrorMessage as="p" error={job.error} />}
            </td>
            <td data-label="Queue">{queues.label(job.queue)}</td>
            <td data-label="State">
              <span className={`state state-${stateLabel(job).toLowerCase()}`}>{stateLabel(job)}</span>
            </td>
            <td className="num" data-label="Progress">
              {job.progress && job.progress.total > 0
                ? `${Math.round((100 * job.progress.current) / job.progress.total)} %`
                : ''}
            </td>
            <td data-label="Created">
              <time dateTime={job.createdAt} title={formatAbsolute(job.createdAt)} suppressHydrationWarning>
                {formatRelative(job.createdAt)}
              </time>
            </td>
            <td className="num" data-label="Duration">
              {job.startedAt && (job.settledAt || now !== null)
                ? formatDuration(elapsedMs(job.startedAt, job.settledAt, now ?? undefined))
                : ''}
            </td>
            {showOwner && (
              <td data-label="Owner">
                <code>{job.ownerId?.slice(0, 8)}</code>
              </td>
            )}
            {actions && <td data-label="Actions">{actions(job)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
