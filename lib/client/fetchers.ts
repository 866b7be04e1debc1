'use client'
/**
 * How each socket scope reads jobs from the server: the viewer's own jobs through the viewer's
 * Server Actions, every job through the operator's (signed-in operators only). Each read answers
 * the database's state at the time it runs; the hooks merge it with what events brought meanwhile.
 */
import type { JobPage, TimelineEvent } from '@/lib/jobs/history'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { ActionResult } from '@/lib/jobs/result'
import { cancelJob, jobStatus, jobTimeline, listJobs } from '@/lib/actions/jobs'
import { operatorCancel, operatorJobStatus, operatorJobTimeline, operatorListJobs } from '@/lib/actions/operator'
import type { JobListFilter } from './job-cache'
import type { SocketScope } from './socket'

/** A job as a list or detail shows it; operators' reads add the owner. */
export type JobView = JobSnapshot & { ownerId?: string }

interface ScopeReads {
  job(jobId: string): Promise<ActionResult<{ job: JobView }>>
  list(filter: JobListFilter): Promise<ActionResult<JobPage<JobView>>>
  timeline(jobId: string): Promise<ActionResult<{ events: TimelineEvent[] }>>
  cancel(jobId: string): Promise<ActionResult<{ job: JobSnapshot }>>
}

export const reads: Record<SocketScope, ScopeReads> = {
  viewer: {
    job: (jobId) => jobStatus({ jobId }),
    list: (filter) => listJobs(filter),
    timeline: (jobId) => jobTimeline({ jobId }),
    cancel: (jobId) => cancelJob({ jobId }),
  },
  operator: {
    job: (jobId) => operatorJobStatus({ jobId }),
    list: (filter) => operatorListJobs(filter),
    timeline: (jobId) => operatorJobTimeline({ jobId }),
    cancel: (jobId) => operatorCancel({ jobId }),
  },
}

/** The value of an action's answer; an expected failure becomes an Error with its safe message. */
export async function unwrap<T>(answer: Promise<ActionResult<T>>): Promise<T> {
  const result = await answer
  if (!result.ok) throw new Error(result.error.message)
  return result.value
}
