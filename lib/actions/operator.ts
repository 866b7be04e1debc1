'use server'
/**
 * Operator actions (/admin): sign in and out, cancel any job, retry a failed one, and the reads the
 * operator view's live hooks refetch with. Each requires a signed-in operator (NOT_FOUND otherwise).
 */
import { headers } from 'next/headers'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { UNAVAILABLE_MESSAGE } from '@/lib/jobs/errors'
import type { JobPage, TimelineEvent } from '@/lib/jobs/history'
import type { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok, type ActionResult } from '@/lib/jobs/result'
import { isDatabaseUnavailable, webPool } from '@/lib/server/db'
import { producerFor } from '@/lib/server/enqueue'
import { webEnv } from '@/lib/server/env'
import { getTimeline, HistoryFilter, listJobHistory } from '@/lib/server/history'
import { findJob, requestCancel } from '@/lib/server/job-store'
import { claimLoginAttempt, clientAddress, recordLoginSuccess } from '@/lib/server/login-throttle'
import { queueCounts, retryJobAsOperator, stuckJobs, type QueueCounts } from '@/lib/server/operator-jobs'
import { defineOperatorAction } from '@/lib/request/operator-action'
import { operatorViewEnabled, passwordMatches, signInOperator, signOutOperator } from '@/lib/request/operator'

const JobRef = z.strictObject({ jobId: z.uuid({ error: 'Must be a job id (UUID).' }) })

/**
 * Form action of /admin/login. Answers with an error message, or redirects to /admin/jobs. Every
 * attempt is counted first (per client and for everyone, `claimLoginAttempt`); while blocked it is
 * refused without looking at the password. With the database unreachable nobody signs in.
 */
export async function operatorSignIn(_previous: string | null, form: FormData): Promise<string | null> {
  if (!operatorViewEnabled()) return 'The operator view is not enabled (set ADMIN_PASSWORD).'
  const requestHeaders = await headers()
  const client = clientAddress(requestHeaders, webEnv().TRUST_PROXY_HOPS)
  const pool = webPool()
  try {
    const attempt = await claimLoginAttempt(pool, client)
    if (attempt.kind === 'refused') return `Too many attempts. Try again in ${attempt.retryAfterSeconds} s.`
    const password = form.get('password')
    if (typeof password !== 'string' || password.length > 1024 || !passwordMatches(password)) return 'Wrong password.'
    await recordLoginSuccess(pool, client)
  } catch (err) {
    if (isDatabaseUnavailable(err)) return UNAVAILABLE_MESSAGE
    throw err
  }
  await signInOperator(requestHeaders.get('x-forwarded-proto') === 'https')
  redirect('/admin/jobs')
}

export async function operatorSignOut(): Promise<void> {
  await signOutOperator()
  redirect('/admin/login')
}

const cancelAction = defineOperatorAction(JobRef, async ({ jobId }) => {
  const outcome = await requestCancel(webPool(), jobId, null, 'operator')
  if (outcome.kind === 'not_found') return fail('NOT_FOUND', 'No such job.')
  if (outcome.kind === 'not_cancellable')
    return fail('NOT_CANCELLABLE', 'This job has already finished or is being cancelled.')
  return ok({ job: outcome.job })
})

/** Cancels any job as an operator (recorded in its timeline as "by an operator"). */
export async function operatorCancel(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return cancelAction(input)
}

const retryAction = defineOperatorAction(JobRef, async ({ jobId }) => {
  const pool = webPool()
  if (!(await retryJobAsOperator(pool, await producerFor(pool), jobId))) {
    return fail('NOT_CANCELLABLE', 'Only failed or cancelled jobs can be retried.')
  }
  const job = await findJob(pool, jobId)
  return job ? ok({ job }) : fail('NOT_FOUND', 'No such job.')
})

/** Sends a failed or cancelled job back to its queue (recorded as "retry requested by an operator"). */
export async function operatorRetry(input: unknown): Promise<ActionResult<{ job: JobSnapshot }>> {
  return retryAction(input)
}

const operatorJobAction = defineOperatorAction(JobRef, async ({ jobId }) => {
  const job = await findJob(webPool(), jobId)
  return job ? ok({ job }) : fail('NOT_FOUND', 'No such job.')
})

/** The current snapshot of any job, with its owner: `{ job }`, or NOT_FOUND. */
export async function operatorJobStatus(
  input: unknown,
): Promise<ActionResult<{ job: JobSnapshot & { ownerId: string } }>> {
  return operatorJobAction(input)
}

const ListInput = HistoryFilter.extend({
  limit: z.number().int().min(1, 'Must be 1 or more.').max(100, 'Must be 100 or less.').optional(),
})

const operatorListAction = defineOperatorAction(ListInput, async ({ limit, ...filter }) =>
  ok(await listJobHistory(webPool(), { ownerId: null, filter, limit })),
)

/**
 * One page of every viewer's jobs, newest first, each with its `ownerId`. Input:
 * `{ queue?, state?, cursor?, limit? }` (limit default 25, at most 100).
 */
export async function operatorListJobs(
  input: unknown = {},
): Promise<ActionResult<JobPage<JobSnapshot & { ownerId: string }>>> {
  return operatorListAction(input)
}

const operatorTimelineAction = defineOperatorAction(JobRef, async ({ jobId }) => {
  const pool = webPool()
  if (!(await findJob(pool, jobId))) return fail('NOT_FOUND', 'No such job.')
  return ok({ events: await getTimeline(pool, jobId) })
})

/** The timeline of any job, oldest event first: `{ events }`, or NOT_FOUND. */
export async function operatorJobTimeline(input: unknown): Promise<ActionResult<{ events: TimelineEvent[] }>> {
  return operatorTimelineAction(input)
}

/** What the operator view shows above the job list. */
export interface OperatorOverview {
  counts: QueueCounts[]
  stuck: (JobSnapshot & { ownerId: string })[]
}

const overviewAction = defineOperatorAction(z.strictObject({}), async () => {
  const pool = webPool()
  const [counts, stuck] = await Promise.all([queueCounts(pool, await producerFor(pool)), stuckJobs(pool)])
  return ok({ counts, stuck })
})

/** Per-queue counts and stuck jobs (see lib/server/operator-jobs.ts): `OperatorOverview`. */
export async function operatorOverview(input: unknown = {}): Promise<ActionResult<OperatorOverview>> {
  return overviewAction(input)
}
