'use client'
import { useJobEvents, useJobs } from '@/lib/client/use-jobs'
import { IMPORTS_QUEUE } from '@/lib/jobs/imports'
import type { JobSnapshot } from '@/lib/jobs/job'
import { JobList } from '@/app/_components/job-list'
import { ImportForm } from './import-form'

/** The import form and the viewer's live imports. */
export function Imports({ initialJobs }: { initialJobs: JobSnapshot[] }) {
  const status = useJobEvents()
  const { data: jobs } = useJobs(initialJobs)
  const imports = jobs.filter((job) => job.queue === IMPORTS_QUEUE)
  return (
    <div className="dashboard">
      <ImportForm />
      <section aria-labelledby="imports-heading" className="card">
        <div className="section-header">
          <h2 id="imports-heading">Your imports</h2>
          <span className={`live live-${status}`} role="status">
            {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline, reconnecting…'}
          </span>
        </div>
        {imports.length === 0 ? (
          <p className="empty">No imports yet. Choose a file above.</p>
        ) : (
          <JobList jobs={imports} />
        )}
      </section>
    </div>
  )
}
