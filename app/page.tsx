import type { JobPage } from '@/lib/jobs/history'
import { readForPage, webPool } from '@/lib/server/db'
import { withDownloadExpiry } from '@/lib/server/downloads'
import { listJobHistory, withoutOwners } from '@/lib/server/history'
import { getViewer } from '@/lib/request/viewer'
import { Dashboard } from './_components/dashboard'
import { DatabaseNotice } from './_components/database-notice'

/** How many of the viewer's most recent jobs the dashboard lists. */
const DASHBOARD_JOBS = 50

/** The page with every export's download expiry as /downloads/:id decides it. */
const withExpiries = (page: JobPage): JobPage => ({ ...page, jobs: page.jobs.map(withDownloadExpiry) })

export default async function HomePage() {
  const viewer = await getViewer()
  const read = await readForPage(async (): Promise<JobPage | undefined> =>
    viewer
      ? withExpiries(
          withoutOwners(await listJobHistory(webPool(), { ownerId: viewer.id, filter: {}, limit: DASHBOARD_JOBS })),
        )
      : undefined,
  )
  return (
    <main className="page">
      <header className="page-header">
        <h1>Background jobs</h1>
        <p className="lede">Export world cities as CSV. Exports run in the worker; progress arrives live.</p>
      </header>
      {!read.available && <DatabaseNotice />}
      <Dashboard initial={read.available ? read.value : undefined} limit={DASHBOARD_JOBS} />
    </main>
  )
}
