import type { JobPage } from '@/lib/jobs/history'
import { isDatabaseUnavailable, webPool } from '@/lib/server/db'
import { listJobHistory, withoutOwners } from '@/lib/server/history'
import { getViewer } from '@/lib/server/viewer'
import { Dashboard } from './_components/dashboard'

/** How many of the viewer's most recent jobs the dashboard lists. */
const DASHBOARD_JOBS = 50

export default async function HomePage() {
  const viewer = await getViewer()
  let initial: JobPage | undefined
  let unavailable = false
  if (viewer) {
    try {
      initial = withoutOwners(
        await listJobHistory(webPool(), { ownerId: viewer.id, filter: {}, limit: DASHBOARD_JOBS }),
      )
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      unavailable = true
    }
  }
  return (
    <main className="page">
      <header className="page-header">
        <h1>Background jobs</h1>
        <p className="lede">Export world cities as CSV. Exports run in the worker; progress arrives live.</p>
      </header>
      {unavailable && (
        <p role="alert" className="notice">
          The database is not reachable right now. Jobs will show again when it is back.
        </p>
      )}
      <Dashboard initial={initial} limit={DASHBOARD_JOBS} />
    </main>
  )
}
