/**
 * Every queue users can see, listed once. Add a queue: write its contract (lib/jobs/<queue>.ts or
 * .tsx, with `defineQueue`), add one line below, and map it to its handler in workers/providers.ts
 * (a missing handler there is a type error). History filters, titles, labels, result parsing and
 * the job card all read this list; nothing else lists queues.
 */
import { deferredQueueOf, sendWelcomeEmail } from './deferred'
import { exportsQueue } from './exports'
import { importsQueue } from './imports'
import { defineRegistry } from './queue'

/** Every deferred action, by name. Their bodies: `deferredHandlers` in workers/queues/deferred-queue.ts. */
export const deferredActions = {
  send_welcome_email: sendWelcomeEmail,
}

/** The deferred queue's contract: runs every action above. */
export const deferredQueue = deferredQueueOf(deferredActions)

/** Every queue, by name. The worker runs exactly these (workers/providers.ts). */
export const queues = defineRegistry({
  exports: exportsQueue,
  imports: importsQueue,
  deferred: deferredQueue,
})

/** A job's title for people, from its queue's contract ("Cities · BR", "Welcome email to ada@example.com"). */
export const jobTitle = queues.title
