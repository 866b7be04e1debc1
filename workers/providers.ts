/**
 * Every queue this worker runs, by name. Add a queue: write a QueueService subclass in
 * workers/queues/ and list it here. Nothing else registers queues.
 */
import type { QueueClass } from './queue-service'
import { DeferredQueue } from './queues/deferred-queue'
import { ExportQueue } from './queues/export-queue'
import { ImportQueue } from './queues/import-queue'

export const providers: QueueClass[] = [
  ExportQueue as QueueClass,
  ImportQueue as QueueClass,
  DeferredQueue as QueueClass,
]
