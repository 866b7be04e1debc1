/**
 * One call of a queue's handler, turned into an `AttemptOutcome`: the payload is re-parsed with the
 * queue's schema first (queued jobs outlive deploys), the handler runs inside its job context, and
 * whatever it returns or throws becomes completed, cancelled or failed. Never throws.
 */
import { errorRef, jobError } from '@/lib/jobs/errors'
import type { AnyQueueContract } from '@/lib/jobs/queue'
import type { Logger } from '../logger'
import {
  JobFailedError,
  runWithJobContext,
  type JobContext,
  type ProgressMessage,
  type ProgressReport,
  type QueueService,
} from '../queue-service'
import type { AbortReason, AttemptOutcome } from './outcome'
import type { ProgressTracker } from './progress'

/** The attempt as the handler sees it. */
export interface HandlerAttempt {
  id: string
  ownerId: string
  /** 1-based attempt number. */
  attempt: number
  signal: AbortSignal
  progress: ProgressTracker
  /** The retryable failure after `err` or an interruption (see `failedAttempt`). */
  failure(err: unknown, reason: AbortReason | undefined): AttemptOutcome
}

export async function runHandler(
  queue: QueueService<AnyQueueContract>,
  payload: unknown,
  { id: jobId, ownerId, attempt, signal, progress, failure }: HandlerAttempt,
  log: Logger,
): Promise<AttemptOutcome> {
  const parsed = queue.contract.payload.safeParse(payload)
  if (!parsed.success) {
    const ref = errorRef()
    log.error(`job ${jobId} [ref ${ref}]: payload does not match ${queue.contract.name}'s schema: ${parsed.error}`)
    // Retrying cannot fix a payload.
    return { kind: 'failed', error: jobError('INVALID_PAYLOAD', { ref }), retryable: false }
  }
  // Bound to this attempt's tracker, never to "the running job": a call that outlives the attempt
  // lands on a closed tracker and is dropped.
  const reportProgress = (first: ProgressReport | number, total?: number, message?: ProgressMessage) =>
    typeof first === 'number'
      ? progress.report(first, total, message)
      : progress.report(first.current, first.total, first.message)
  const context: JobContext = { jobId, ownerId, attempt, signal, reportProgress }
  try {
    return { kind: 'completed', result: await runWithJobContext(context, () => queue.handleItem(parsed.data)) }
  } catch (err) {
    const reason = signal.reason as AbortReason | undefined
    if (reason === 'cancel') return { kind: 'cancelled' }
    if (err instanceof JobFailedError)
      return { kind: 'failed', error: jobError('FAILED', { message: err.publicMessage }), retryable: false }
    return failure(err, reason)
  }
}
