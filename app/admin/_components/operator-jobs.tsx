'use client'
import type { OperatorOverview } from '@/lib/actions/operator'
import type { JobPage } from '@/lib/jobs/history'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { JobListFilter } from '@/lib/client/job-cache'
import { useClock } from '@/lib/client/use-clock'
import { useJobs } from '@/lib/client/use-jobs'
import { useOperatorOverview } from '@/lib/client/use-operator-overview'
import { JobTable } from '@/app/_components/job-table'
import { OperatorJobActions } from './job-actions'

const actions = (job: JobSnapshot) => <OperatorJobActions job={job} />

/** Queue counts and stuck jobs, live (operator socket), from the server's `initial`. */
export function QueueOverview({ initial }: { initial: OperatorOverview }) {
  const { data } = useOperatorOverview(initial)
  const { counts, stuck } = data ?? initial
  const now = useClock()
  return (
    <>
      <section aria-labelledby="queues-heading">
        <h2 id="queues-heading">Queues</h2>
        <div className="counts">
          {counts.map((q) => (
            <div key={q.name} className="card" aria-label={`Queue ${q.name}`}>
              <h3>{q.name}</h3>
              <dl className="facts">
                <dt>Queued</dt>
                <dd>{q.queued}</dd>
                <dt>Active</dt>
                <dd>{q.active}</dd>
                <dt>Failed</dt>
                <dd>{q.failed}</dd>
                <dt>Completed, last hour</dt>
                <dd>{q.completedLastHour}</dd>
              </dl>
            </div>
          ))}
        </div>
      </section>
      <section className="card" aria-labelledby="stuck-heading">
        <h2 id="stuck-heading">Stuck jobs</h2>
        <p className="hint">
          Active, but no heartbeat within their queue&apos;s heartbeat interval: their worker is probably gone and
          pg-boss will retry them. Also jobs failed as <code>JOB_LOST</code>: their pg-boss job was deleted before they
          finished, so nothing could run them.
        </p>
        <JobTable jobs={stuck} showOwner showErrors actions={actions} now={now} />
      </section>
    </>
  )
}

/** Every viewer's jobs matching `filter`, live (operator socket), from the server's `initial` page. */
export function OperatorJobTable({
  filter,
  initial,
}: {
  filter: JobListFilter
  initial: JobPage<JobSnapshot & { ownerId: string }>
}) {
  const { data: jobs } = useJobs(filter, { initial, scope: 'operator' })
  const now = useClock()
  return <JobTable jobs={jobs} showOwner showErrors actions={actions} now={now} />
}
