/**
 * Runs every deferred action (lib/jobs/deferred.ts) on one queue. Register a new action's body
 * in `deferredHandlers` below; its input is re-parsed with the action's schema before it runs.
 */
import { DEFERRED_QUEUE, DeferredItem } from '@/lib/jobs/deferred'
import { sendWelcomeEmailHandler } from '../deferred/send-welcome-email'
import type { DeferredHandler } from '../deferred/registry'
import { QueueService, type QueueOptions } from '../queue-service'

/** Every deferred action's body, by action name. */
export const deferredHandlers: Record<string, DeferredHandler> = Object.fromEntries(
  [sendWelcomeEmailHandler].map((h) => [h.action.name, h as DeferredHandler]),
)

export class DeferredQueue extends QueueService<DeferredItem, unknown> {
  readonly name = DEFERRED_QUEUE
  readonly workerCount = 5
  readonly itemSchema = DeferredItem
  readonly options: QueueOptions = { retryLimit: 4, retryDelay: 10, retryBackoff: true, expireInSeconds: 5 * 60 }

  async handleItem(item: DeferredItem): Promise<unknown> {
    const handler = deferredHandlers[item.action]
    if (!handler) this.failJob({ error: `This action (${item.action}) is not available any more.` })
    const input = handler.action.schema.safeParse(item.input)
    if (!input.success) this.failJob({ error: 'This action was requested with input it no longer accepts.' })
    const { jobId, ownerId, attempt, signal } = this.job
    return (await handler.run(input.data, { pool: this.deps.pool, jobId, ownerId, attempt, signal })) ?? null
  }
}
