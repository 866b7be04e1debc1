import type { JobSnapshot } from '@/lib/jobs/job'
import { isDatabaseUnavailable, webPool } from '@/lib/server/db'
import { listJobsForOwner } from '@/lib/server/job-store'
import { getViewer } from '@/lib/server/viewer'
import { Dashboard } from './_components/dashboard'

export default async function HomePage() {
  const viewer = await getViewer()
  let jobs: JobSnapshot[] = []
  let unavailable = false
  if (viewer) {
    try {
      jobs = await listJobsForOwner(webPool(), viewer.id)
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
      <Dashboard initialJobs={jobs} />
    </main>
  )
}
