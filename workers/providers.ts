/**
 * The handler of every queue in the registry (lib/jobs/registry.ts), by queue name. Add a queue:
 * add its contract to the registry, then its QueueService class here; `satisfies` makes a queue
 * without a handler (or with another queue's) a type error. Nothing else registers handlers.
 */
import { queues } from '@/lib/jobs/registry'
import type { QueueClasses } from './queue-service'
import { DeferredQueue } from './queues/deferred-queue'
import { ExportQueue } from './queues/export-queue'
import { ImportQueue } from './queues/import-queue'

export const providers = {
  exports: ExportQueue,
  imports: ImportQueue,
  deferred: DeferredQueue,
} satisfies QueueClasses<typeof queues>
