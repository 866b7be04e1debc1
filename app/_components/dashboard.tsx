'use client'
import type { JobSnapshot } from '@/lib/jobs/job'
import { useJobEvents, useJobs } from '@/lib/client/use-jobs'
import { ExportForm } from './export-form'
import { JobList } from './job-list'

/** The export form and the viewer's live job list. */
export function Dashboard({ initialJobs }: { initialJobs: JobSnapshot[] }) {
  const status = useJobEvents()
  const { data: jobs } = useJobs(initialJobs)
  return (
    <div className="dashboard">
      <ExportForm />
      <section aria-labelledby="jobs-heading" className="card">
        <div className="section-header">
          <h2 id="jobs-heading">Your jobs</h2>
          <span className={`live live-${status}`} role="status">
            {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline, reconnecting…'}
          </span>
        </div>
        <JobList jobs={jobs} />
      </section>
    </div>
  )
}
