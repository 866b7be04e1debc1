/** Names of every queue users can see in history filters. Keep in line with workers/providers.ts. */
import { DEFERRED_QUEUE } from './deferred'
import { EXPORTS_QUEUE } from './exports'
import { IMPORTS_QUEUE } from './imports'

export const providersQueueNames = [EXPORTS_QUEUE, IMPORTS_QUEUE, DEFERRED_QUEUE] as const
