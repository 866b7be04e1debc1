import type { JobSnapshot } from '@/lib/jobs/job'
import { readForPage, webPool } from '@/lib/server/db'
import { listJobsForOwner } from '@/lib/server/job-store'
import { getViewer } from '@/lib/server/viewer'
import { Dashboard } from './_components/dashboard'
import { DatabaseNotice } from './_components/database-notice'

export default async function HomePage() {
  const viewer = await getViewer()
  const read = await readForPage(async (): Promise<JobSnapshot[]> =>
    viewer ? listJobsForOwner(webPool(), viewer.id) : [],
  )
  return (
    <main className="page">
      <header className="page-header">
        <h1>Background jobs</h1>
        <p className="lede">Export world cities as CSV. Exports run in the worker; progress arrives live.</p>
      </header>
      {!read.available && <DatabaseNotice />}
      <Dashboard initialJobs={read.available ? read.value : []} />
    </main>
  )
}
