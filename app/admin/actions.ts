'use server'
/** Operator actions (/admin): sign in and out, cancel any job, retry a failed one. */
import { headers } from 'next/headers'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import type { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok, type ActionResult } from '@/lib/jobs/result'
import { isDatabaseUnavailable, webPool } from '@/lib/server/db'
import { producerFor } from '@/lib/server/enqueue'
import { trustedProxyHops } from '@/lib/server/env'
import { findJob, requestCancel } from '@/lib/server/job-store'
import { claimLoginAttempt, clientAddress, recordLoginSuccess } from '@/lib/server/login-throttle'
import { defineOperatorAction } from '@/lib/server/operator-action'
import {
  operatorViewEnabled,
  passwordMatches,
  retryJobAsOperator,
  signInOperator,
  signOutOperator,
} from '@/lib/server/operator'

const JobRef = z.strictObject({ jobId: z.uuid({ error: 'Must be a job id (UUID).' }) })

/**
 * Form action of /admin/login. Answers with an error message, or redirects to /admin/jobs. Every
 * attempt is counted first (per client and for everyone, `claimLoginAttempt`); while blocked it is
 * refused without looking at the password. With the database unreachable nobody signs in.
 */
export async function operatorSignIn(_previous: string | null, form: FormData): Promise<string | null> {
  if (!operatorViewEnabled()) return 'The operator view is not enabled (set ADMIN_PASSWORD).'
  const requestHeaders = await headers()
  const client = clientAddress(requestHeaders, trustedProxyHops())
  const pool = webPool()
  try {
    const attempt = await claimLoginAttempt(pool, client)
    if (attempt.kind === 'refused') return `Too many attempts. Try again in ${attempt.retryAfterSeconds} s.`
    const password = form.get('password')
    if (typeof password !== 'string' || password.length > 1024 || !passwordMatches(password)) return 'Wrong password.'
    await recordLoginSuccess(pool, client)
  } catch (err) {
    if (isDatabaseUnavailable(err)) return 'The service is temporarily unavailable. Try again in a moment.'
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
