import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineQueue, defineRegistry } from '@/lib/jobs/queue'
import { queues } from '@/lib/jobs/registry'
import { providers } from './providers'
import { QueueService, type QueueClasses } from './queue-service'
import { DeferredQueue } from './queues/deferred-queue'
import { ExportQueue } from './queues/export-queue'

const thumbnails = defineQueue({ name: 'thumbnails', payload: z.strictObject({ imageId: z.string() }) })
class ThumbnailQueue extends QueueService<typeof thumbnails> {
  readonly contract = thumbnails
  async handleItem({ imageId }: { imageId: string }) {
    return { imageId }
  }
}
const withThumbnails = defineRegistry({ ...queues.queues, thumbnails })

// Type-level checks: `npm run typecheck` fails if any of these lines stops being an error.
// @ts-expect-error a registered queue without a handler
void ({ exports: ExportQueue } satisfies QueueClasses<typeof queues>)
// @ts-expect-error a handler of another queue's contract
void ({ exports: ExportQueue, deferred: ExportQueue } satisfies QueueClasses<typeof queues>)
// @ts-expect-error the app's handlers, but the registry gained a queue
void (providers satisfies QueueClasses<typeof withThumbnails>)

describe('providers', () => {
  it('has exactly one handler per registered queue, each for its own contract', () => {
    expect(Object.keys(providers)).toEqual(queues.names)
    for (const [name, Queue] of Object.entries(providers)) {
      expect(new Queue({ pool: null as never }).contract).toBe(queues.get(name))
    }
  })

  it('lets a subclass run a handler under another name without type trouble', () => {
    class Renamed extends ExportQueue {
      readonly contract = { ...queues.queues.exports, name: 'exports_copy' }
    }
    expect(new Renamed({ pool: null as never }).contract.name).toBe('exports_copy')
    expect(new DeferredQueue({ pool: null as never }).contract.name).toBe('deferred')
  })

  it('takes one more handler for a registry with one more queue', () => {
    const more = { ...providers, thumbnails: ThumbnailQueue } satisfies QueueClasses<typeof withThumbnails>
    expect(Object.keys(more)).toEqual(withThumbnails.names)
  })
})
