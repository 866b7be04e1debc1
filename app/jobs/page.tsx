import Link from 'next/link'
import { readForPage, webPool } from '@/lib/server/db'
import { HistoryFilter, listJobHistory, withoutOwners } from '@/lib/server/history'
import { getViewer } from '@/lib/request/viewer'
import { JobFilters } from '@/app/_components/job-filters'
import { DatabaseNotice } from '@/app/_components/database-notice'
import { LiveJobTable } from '@/app/_components/live-job-table'

/** Job history: every queue, filter by queue and state, newest first, 25 a page (keyset). */
export default async function JobsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const params = await searchParams
  const raw = Object.fromEntries(Object.entries(params).filter(([, v]) => typeof v === 'string' && v !== ''))
  const filter = HistoryFilter.safeParse(raw)
  const viewer = await getViewer()
  const read = await readForPage(async () =>
    viewer && filter.success ? listJobHistory(webPool(), { ownerId: viewer.id, filter: filter.data }) : null,
  )
  const page = read.available ? read.value : null
  const current = filter.success ? filter.data : {}
  const next = page?.nextCursor
    ? `/jobs?${new URLSearchParams({ ...(current.queue ? { queue: current.queue } : {}), ...(current.state ? { state: current.state } : {}), cursor: page.nextCursor })}`
    : null
  return (
    <main className="page wide">
      <h1>Job history</h1>
      <JobFilters current={current} />
      {!read.available && <DatabaseNotice />}
      {!filter.success && (
        <p role="alert" className="notice">
          Those filters are not valid; showing nothing.
        </p>
      )}
      <section className="card">
        {page ? (
          <LiveJobTable filter={current} initial={withoutOwners(page)} />
        ) : (
          <p className="empty">No jobs match.</p>
        )}
        <p className="pager">
          {current.cursor && (
            <Link
              href={`/jobs?${new URLSearchParams({ ...(current.queue ? { queue: current.queue } : {}), ...(current.state ? { state: current.state } : {}) })}`}
            >
              Newest
            </Link>
          )}
          {next && <Link href={next}>Older jobs</Link>}
        </p>
      </section>
    </main>
  )
}
