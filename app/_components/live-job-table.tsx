'use client'
import type { JobPage } from '@/lib/jobs/history'
import type { JobListFilter } from '@/lib/client/job-cache'
import { useClock } from '@/lib/client/use-clock'
import { useJobs } from '@/lib/client/use-jobs'
import { JobTable } from './job-table'

/** A page of the viewer's jobs as a table, live (`useJobs`), starting from the server's `initial` page. */
export function LiveJobTable({ filter, initial }: { filter: JobListFilter; initial?: JobPage }) {
  const { data: jobs } = useJobs(filter, { initial })
  const now = useClock()
  return <JobTable jobs={jobs} now={now} />
}
