import Link from 'next/link'
import { describeJob, elapsedMs, formatDuration } from '@/lib/jobs/describe'
import { stateLabel, type JobSnapshot } from '@/lib/jobs/job'

/**
 * A table of jobs for history pages. `showOwner` adds the owner column (operators). `now` (ms) times
 * running jobs' durations; without it only settled jobs show one.
 */
export function JobTable({
  jobs,
  showOwner = false,
  actions,
  now = null,
}: {
  jobs: (JobSnapshot & { ownerId?: string })[]
  showOwner?: boolean
  actions?: (job: JobSnapshot) => React.ReactNode
  now?: number | null
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
            <td>
              <Link href={`/jobs/${job.id}`}>{describeJob(job)}</Link>
            </td>
            <td>{job.queue}</td>
            <td>
              <span className={`state state-${stateLabel(job).toLowerCase()}`}>{stateLabel(job)}</span>
            </td>
            <td className="num">
              {job.progress && job.progress.total > 0
                ? `${Math.round((100 * job.progress.current) / job.progress.total)} %`
                : ''}
            </td>
            <td>
              <time dateTime={job.createdAt}>
                {new Date(job.createdAt).toISOString().slice(0, 19).replace('T', ' ')} UTC
              </time>
            </td>
            <td className="num">
              {job.startedAt && (job.settledAt || now !== null)
                ? formatDuration(elapsedMs(job.startedAt, job.settledAt, now ?? undefined))
                : ''}
            </td>
            {showOwner && (
              <td>
                <code>{job.ownerId?.slice(0, 8)}</code>
              </td>
            )}
            {actions && <td>{actions(job)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
