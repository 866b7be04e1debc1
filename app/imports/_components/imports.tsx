'use client'
import { useCancelJob } from '@/lib/client/use-job'
import { useJobs } from '@/lib/client/use-jobs'
import type { JobPage } from '@/lib/jobs/history'
import { IMPORTS_QUEUE } from '@/lib/jobs/imports'
import { JobList } from '@/app/_components/job-list'
import { LiveStatus } from '@/app/_components/live-status'
import { ImportForm } from './import-form'

/**
 * The import form and the viewer's live imports: the `limit` most recent, starting from `initial`,
 * the page the server rendered with (read with the same filter and limit).
 */
export function Imports({ initial, limit }: { initial?: JobPage; limit: number }) {
  const { data: imports } = useJobs({ queue: IMPORTS_QUEUE, limit }, { initial })
  const cancel = useCancelJob()
  return (
    <div className="dashboard">
      <ImportForm />
      <section aria-labelledby="imports-heading" className="card">
        <div className="section-header">
          <h2 id="imports-heading">Your imports</h2>
          <LiveStatus />
        </div>
        {imports.length === 0 ? (
          <p className="empty">No imports yet. Choose a file above.</p>
        ) : (
          <JobList jobs={imports} onCancel={cancel} />
        )}
      </section>
    </div>
  )
}
