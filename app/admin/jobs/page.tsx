import { redirect } from 'next/navigation'
import { connection } from 'next/server'
import { webPool } from '@/lib/server/db'
import { producerFor } from '@/lib/server/enqueue'
import { HistoryFilter, listJobHistory } from '@/lib/server/history'
import { getOperator, operatorViewEnabled } from '@/lib/server/operator'
import { queueCounts, stuckJobs } from '@/lib/server/ops'
import { JobState } from '@/lib/jobs/job'
import { providersQueueNames } from '@/lib/jobs/queues'
import { operatorSignOut } from '../actions'
import { JobTable } from '../../jobs/_components/job-table'
import { LiveRefresh } from '../../jobs/_components/live-refresh'
import { OperatorJobActions } from '../_components/job-actions'

/** The operator view: every viewer's jobs, live; queue counts; stuck jobs; cancel and retry. */
export default async function OperatorJobsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  await connection()
  if (!operatorViewEnabled() || !(await getOperator())) redirect('/admin/login')
  const params = await searchParams
  const filter = HistoryFilter.safeParse(
    Object.fromEntries(Object.entries(params).filter(([, v]) => typeof v === 'string' && v !== '')),
  )
  const pool = webPool()
  const [counts, stuck, page] = await Promise.all([
    queueCounts(pool, await producerFor(pool)),
    stuckJobs(pool),
    listJobHistory(pool, { ownerId: null, filter: filter.success ? filter.data : {}, limit: 50 }),
  ])
  const actions = (job: Parameters<typeof OperatorJobActions>[0]['job']) => <OperatorJobActions job={job} />
  return (
    <main className="page wide">
      <LiveRefresh operator />
      <div className="section-header">
        <h1>Operators</h1>
        <form action={operatorSignOut}>
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      </div>
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
        <JobTable jobs={stuck} showOwner actions={actions} />
      </section>
      <section className="card" aria-labelledby="all-heading">
        <h2 id="all-heading">All jobs</h2>
        <form className="filters" method="get" aria-label="Filter jobs">
          <label>
            Queue{' '}
            <select name="queue" defaultValue={filter.success ? (filter.data.queue ?? '') : ''}>
              <option value="">All queues</option>
              {providersQueueNames.map((q) => (
                <option key={q} value={q}>
                  {q}
                </option>
              ))}
            </select>
          </label>
          <label>
            State{' '}
            <select name="state" defaultValue={filter.success ? (filter.data.state ?? '') : ''}>
              <option value="">All states</option>
              {JobState.options.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="secondary">
            Filter
          </button>
        </form>
        <JobTable jobs={page.jobs} showOwner actions={actions} />
      </section>
    </main>
  )
}
