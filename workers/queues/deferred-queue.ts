/**
 * Runs every deferred action (`deferredActions` in lib/jobs/registry.ts) on one queue. Register a
 * new action's body in `deferredHandlers` below (a listed action without a body is a type error);
 * its input is re-parsed with the action's schema before it runs.
 */
import type { DeferredItem } from '@/lib/jobs/deferred'
import { deferredActions, deferredQueue } from '@/lib/jobs/registry'
import { sendWelcomeEmailHandler } from '../deferred/send-welcome-email'
import type { DeferredHandler, DeferredHandlers } from '../deferred/deferred-handler'
import { QueueService } from '../queue-service'

/** Every deferred action's body, by action name. */
export const deferredHandlers = {
  send_welcome_email: sendWelcomeEmailHandler,
} satisfies DeferredHandlers<typeof deferredActions>

const handlersByName: ReadonlyMap<string, DeferredHandler> = new Map(Object.entries(deferredHandlers))

export class DeferredQueue extends QueueService<typeof deferredQueue> {
  readonly contract = deferredQueue
  readonly workerCount = 5

  async handleItem(item: DeferredItem): Promise<unknown> {
    const handler = handlersByName.get(item.action)
    if (!handler) this.failJob({ error: `This action (${item.action}) is not available any more.` })
    const input = handler.action.schema.safeParse(item.input)
    if (!input.success) this.failJob({ error: 'This action was requested with input it no longer accepts.' })
    const { jobId, ownerId, attempt, signal } = this.job
    return (await handler.run(input.data, { pool: this.deps.pool, jobId, ownerId, attempt, signal })) ?? null
  }
}
