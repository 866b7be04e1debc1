import { notFound } from 'next/navigation'
import { z } from 'zod'
import { webPool } from '@/lib/server/db'
import { getTimeline } from '@/lib/server/history'
import { findJob, findJobForOwner } from '@/lib/server/job-store'
import { getOperator } from '@/lib/server/operator'
import { getViewer } from '@/lib/server/viewer'
import { JobDetails } from './_components/job-details'

export default async function JobPage({ params }: { params: Promise<{ jobId: string }> }) {
  const { jobId } = await params
  if (!z.uuid().safeParse(jobId).success) notFound()
  const [viewer, operator] = await Promise.all([getViewer(), getOperator()])
  const pool = webPool()
  const job = operator ? await findJob(pool, jobId) : viewer ? await findJobForOwner(pool, jobId, viewer.id) : null
  if (!job) notFound()
  const timeline = await getTimeline(pool, jobId)
  return <JobDetails initial={job} timeline={timeline} scope={operator ? 'operator' : 'viewer'} />
}
