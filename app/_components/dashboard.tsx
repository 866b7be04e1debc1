'use client'
import type { JobPage } from '@/lib/jobs/history'
import { useCancelJob } from '@/lib/client/use-job'
import { useJobs } from '@/lib/client/use-jobs'
import { ExportForm } from './export-form'
import { JobList } from './job-list'
import { LiveStatus } from './live-status'

/**
 * The export form and the viewer's live job list: the `limit` most recent jobs, starting from
 * `initial`, the page the server rendered with (read with the same limit).
 */
export function Dashboard({ initial, limit }: { initial?: JobPage; limit: number }) {
  const { data: jobs } = useJobs({ limit }, { initial })
  const cancel = useCancelJob()
  return (
    <div className="dashboard">
      <ExportForm />
      <section aria-labelledby="jobs-heading" className="card">
        <div className="section-header">
          <h2 id="jobs-heading">Your jobs</h2>
          <LiveStatus />
        </div>
        <JobList jobs={jobs} onCancel={cancel} />
      </section>
    </div>
  )
}
