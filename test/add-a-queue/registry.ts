/**
 * The registry line of the "Add a queue" example, in a test: the app's registry and handler map
 * plus the new queue, composed here so the test edits no file but its own. In an app the same
 * line goes into `queues` (lib/jobs/registry.ts) and `providers` (workers/providers.ts).
 */
import { defineRegistry } from '@/lib/jobs/queue'
import { queues } from '@/lib/jobs/registry'
import { providers } from '@/workers/providers'
import type { QueueClasses } from '@/workers/queue-service'
import { cityStatsQueue } from './city-stats'
import { CityStatsQueue } from './city-stats-queue'

export const testQueues = defineRegistry({ ...queues.queues, city_stats: cityStatsQueue })

export const testProviders = { ...providers, city_stats: CityStatsQueue } satisfies QueueClasses<typeof testQueues>
