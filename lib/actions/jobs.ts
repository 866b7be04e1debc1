'use server'
/**
 * The viewer's job actions: start, cancel, and the reads the live hooks (lib/client) refetch with.
 * Each is a public POST endpoint: validated with zod, scoped to the caller's own jobs, answering
 * `ActionResult` (lib/jobs/result.ts). They live outside app/ so lib/client can import them; a
 * Server Action no client module imports is left out of the build.
 */
import { z } from 'zod'
import { ExportItem, exportsQueue } from '@/lib/jobs/exports'
import type { JobPage, TimelineEvent } from '@/lib/jobs/history'
import type { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok, type ActionResult } from '@/lib/jobs/result'
import { defineAction } from '@/lib/request/action'
import { webPool } from '@/lib/server/db'
import { enqueue } from '@/lib/server/enqueue-limited'
import { withDownloadExpiry } from '@/lib/server/downloads'
import { webEnv } from '@/lib/server/env'
import { getTimeline, HistoryFilter, listJobHistory, withoutOwners } from '@/lib/server/history'
import { findJobForOwner, requestCancel } from '@/lib/server/job-store'

const JobRef = z.strictObject({ jobId: z.uuid({ error: 'Must be a job id (UUID).' }) })

/** pg-boss refuses jobs for a queue no worker has created yet. */
function isMissingQueue(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'PGBOSS_QUEUE_NOT_FOUND'
}

const startExportAction = defineAction(ExportItem, async (item, { viewer }) => {
  const limit = webEnv().EXPORT_LIMIT_PER_VIEWER
  try {
    // Counted and enqueued under a per-viewer lock: concurrent calls never exceed the limit.
    const outcome = await enqueue(webPool(), exportsQueue, { ownerId: viewer.id, payload: item }, { limit })
    if (outcome.kind === 'limited') {
      return fail(
        'LIMITED',
        `You already have ${limit} exports queued or running. Wait for one to finish or cancel one.`,
      )
    }
    return ok({ job: outcome.job })
  } catch (err) {
    if (isMissingQueue(err)) return fail('UNAVAILABLE', 'The workers have not started yet. Try again in a moment.')
    throw err
  }
})

/**
 * Queues a cities export for the viewer. Input: `ExportItem` (nameContains, country, minPopulation).
 * Returns `{ job }` (state `queued`), or VALIDATION with `fields`, LIMITED (the viewer already has
 * `EXPORT_LIMIT_PER_VIEWER` exports queued or running, default 5), UNAVAILABLE.
 */
export async function startExport(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return startExportAction(input)
}

const cancelJobAction = defineAction(JobRef, async ({ jobId }, { viewer }) => {
  const outcome = await requestCancel(webPool(), jobId, viewer.id)
  switch (outcome.kind) {
    case 'cancelled':
    case 'cancelling':
      return ok({ job: outcome.job })
    case 'not_cancellable':
      return fail(
        'NOT_CANCELLABLE',
        outcome.job.cancelRequested && outcome.job.state === 'active'
          ? 'This job is already being cancelled.'
          : 'This job has already finished.',
      )
    case 'not_found':
      return fail('NOT_FOUND', 'No such job.')
  }
})

/**
 * Asks to cancel one of the viewer's jobs. A queued job is cancelled at once; a running one shows
 * `cancelRequested` until its handler stops. Returns `{ job }`, or NOT_FOUND, NOT_CANCELLABLE.
 */
export async function cancelJob(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return cancelJobAction(input)
}

const jobStatusAction = defineAction(JobRef, async ({ jobId }, { viewer }) => {
  const job = await findJobForOwner(webPool(), jobId, viewer.id)
  return job ? ok({ job: withDownloadExpiry(job) }) : fail('NOT_FOUND', 'No such job.')
})

/** The current snapshot of one of the viewer's jobs: `{ job }`, or NOT_FOUND. */
export async function jobStatus(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return jobStatusAction(input)
}

/** Largest page `listJobs` answers, in jobs. */
const MAX_PAGE = 100

/** `listJobs` input: a history filter (queue, state, cursor) and a page size (default 25, at most 100). */
const ListInput = HistoryFilter.extend({
  limit: z.number().int().min(1, 'Must be 1 or more.').max(MAX_PAGE, `Must be ${MAX_PAGE} or less.`).optional(),
})

const listJobsAction = defineAction(ListInput, async ({ limit, ...filter }, { viewer }) => {
  const page = withoutOwners(await listJobHistory(webPool(), { ownerId: viewer.id, filter, limit }))
  return ok({ ...page, jobs: page.jobs.map(withDownloadExpiry) })
})

/**
 * One page of the viewer's jobs, newest first: `{ jobs, nextCursor, asOf }` (`JobPage`). Input:
 * `{ queue?, state?, cursor?, limit? }` (limit default 25, at most 100); VALIDATION otherwise.
 */
export async function listJobs(input: unknown = {}): Promise<ActionResult<JobPage>> {
  return listJobsAction(input)
}

const jobTimelineAction = defineAction(JobRef, async ({ jobId }, { viewer }) => {
  const pool = webPool()
  if (!(await findJobForOwner(pool, jobId, viewer.id))) return fail('NOT_FOUND', 'No such job.')
  return ok({ events: await getTimeline(pool, jobId) })
})

/** The timeline of one of the viewer's jobs, oldest event first: `{ events }`, or NOT_FOUND. */
export async function jobTimeline(input: unknown): Promise<ActionResult<{ events: TimelineEvent[] }>> {
  return jobTimelineAction(input)
}
