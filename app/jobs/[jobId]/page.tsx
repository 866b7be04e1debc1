import { notFound } from 'next/navigation'
import { z } from 'zod'
import Link from 'next/link'
import { readForPage, webPool } from '@/lib/server/db'
import { withDownloadExpiry } from '@/lib/server/downloads'
import { getTimeline } from '@/lib/server/history'
import { findJob, findJobForOwner } from '@/lib/server/job-store'
import { getOperator } from '@/lib/request/operator'
import { getViewer } from '@/lib/request/viewer'
import { DatabaseNotice } from '@/app/_components/database-notice'
import { JobDetails } from './_components/job-details'

export default async function JobPage({ params }: { params: Promise<{ jobId: string }> }) {
  const { jobId } = await params
  if (!z.uuid().safeParse(jobId).success) notFound()
  const [viewer, operator] = await Promise.all([getViewer(), getOperator()])
  const pool = webPool()
  const read = await readForPage(async () => {
    const job = operator ? await findJob(pool, jobId) : viewer ? await findJobForOwner(pool, jobId, viewer.id) : null
    return job ? { job, timeline: await getTimeline(pool, jobId) } : null
  })
  if (!read.available) {
    return (
      <main className="page">
        <p>
          <Link href="/jobs">← Job history</Link>
        </p>
        <h1>Job</h1>
        <DatabaseNotice />
      </main>
    )
  }
  if (!read.value) notFound()
  // The download route's own expiry rule, so the page never links to a 410.
  const job = withDownloadExpiry(read.value.job)
  return <JobDetails initial={job} timeline={read.value.timeline} scope={operator ? 'operator' : 'viewer'} />
}
