import type { JobSnapshot } from '@/lib/jobs/job'
import { isDatabaseUnavailable, webPool } from '@/lib/server/db'
import { env } from '@/lib/server/env'
import { listJobsForOwner } from '@/lib/server/job-store'
import { getViewer } from '@/lib/server/viewer'
import { Imports } from './_components/imports'

export const metadata = { title: 'Imports · Background jobs' }

export default async function ImportsPage() {
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
  const maxMb = Math.round((env().IMPORT_MAX_BYTES / (1024 * 1024)) * 10) / 10
  return (
    <main className="page">
      <header className="page-header">
        <h1>Imports</h1>
        <p className="lede">
          Upload a CSV of cities (up to {maxMb} MB). Every row is checked; valid rows are published together when the
          import completes, and rejected ones can be downloaded with the reason for each.
        </p>
      </header>
      {unavailable && (
        <p role="alert" className="notice">
          The database is not reachable right now. Imports will show again when it is back.
        </p>
      )}
      <Imports initialJobs={jobs} />
    </main>
  )
}
