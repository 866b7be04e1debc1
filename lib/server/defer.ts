/**
 * Runs a deferred action later, in the worker: validates the input with the action's schema, then
 * stores the job before returning, so the work survives the web process exiting right after.
 */
import type pg from 'pg'
import { DEFERRED_QUEUE, type DeferredAction } from '@/lib/jobs/deferred'
import type { JobSnapshot } from '@/lib/jobs/job'
import { enqueueJob, type EnqueueOptions } from './enqueue'

/**
 * Queues `action` with `input` for `ownerId`. Throws a `ZodError` when `input` does not match the
 * action's schema (validate in your Server Action first to answer VALIDATION). Retries follow the
 * deferred queue's options (workers/queues/deferred-queue.ts). See `EnqueueOptions` for
 * `idempotencyKey` and `tx`.
 */
export async function defer<Input>(
  pool: pg.Pool,
  action: DeferredAction<Input>,
  input: Input,
  options: EnqueueOptions & { ownerId: string },
): Promise<JobSnapshot> {
  const parsed = action.schema.parse(input)
  return enqueueJob(
    pool,
    { queue: DEFERRED_QUEUE, ownerId: options.ownerId, payload: { action: action.name, input: parsed } },
    options,
  )
}
