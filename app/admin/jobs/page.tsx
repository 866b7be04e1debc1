import { redirect } from 'next/navigation'
import { connection } from 'next/server'
import { webPool } from '@/lib/server/db'
import { producerFor } from '@/lib/server/enqueue'
import { HistoryFilter, listJobHistory } from '@/lib/server/history'
import { getOperator, operatorViewEnabled } from '@/lib/request/operator'
import { queueCounts, stuckJobs } from '@/lib/server/operator-jobs'
import { JobFilters } from '@/app/_components/job-filters'
import { operatorSignOut } from '@/lib/actions/operator'
import { OperatorJobTable, QueueOverview } from '../_components/operator-jobs'

/** How many jobs the operator view lists. */
const OPERATOR_JOBS = 50

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
  const current = { ...(filter.success ? filter.data : {}), limit: OPERATOR_JOBS }
  const [counts, stuck, page] = await Promise.all([
    queueCounts(pool, await producerFor(pool)),
    stuckJobs(pool),
    listJobHistory(pool, { ownerId: null, filter: current, limit: OPERATOR_JOBS }),
  ])
  return (
    <main className="page wide">
      <div className="section-header">
        <h1>Operators</h1>
        <form action={operatorSignOut}>
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      </div>
      <QueueOverview initial={{ counts, stuck }} />
      <section className="card" aria-labelledby="all-heading">
        <h2 id="all-heading">All jobs</h2>
        <JobFilters current={filter.success ? filter.data : {}} />
        <OperatorJobTable filter={current} initial={page} />
      </section>
    </main>
  )
}
