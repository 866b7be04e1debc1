import type { JobPage } from '@/lib/jobs/history'
import { IMPORTS_QUEUE } from '@/lib/jobs/imports'
import { readForPage, webPool } from '@/lib/server/db'
import { webEnv } from '@/lib/server/env'
import { listJobHistory, withoutOwners } from '@/lib/server/history'
import { getViewer } from '@/lib/request/viewer'
import { DatabaseNotice } from '@/app/_components/database-notice'
import { Imports } from './_components/imports'

export const metadata = { title: 'Imports · Background jobs' }

/** How many of the viewer's most recent imports the page lists. */
const IMPORT_JOBS = 25

export default async function ImportsPage() {
  const viewer = await getViewer()
  const read = await readForPage(async (): Promise<JobPage | undefined> =>
    viewer
      ? withoutOwners(
          await listJobHistory(webPool(), {
            ownerId: viewer.id,
            filter: { queue: IMPORTS_QUEUE },
            limit: IMPORT_JOBS,
          }),
        )
      : undefined,
  )
  const maxMb = Math.round((webEnv().IMPORT_MAX_BYTES / (1024 * 1024)) * 10) / 10
  return (
    <main className="page">
      <header className="page-header">
        <h1>Imports</h1>
        <p className="lede">
          Upload a CSV of cities (up to {maxMb} MB). Every row is checked; valid rows are published together when the
          import completes, and rejected ones can be downloaded with the reason for each.
        </p>
      </header>
      {!read.available && <DatabaseNotice />}
      <Imports initial={read.available ? read.value : undefined} limit={IMPORT_JOBS} />
    </main>
  )
}
