import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFAULT_LIMIT_PER_OWNER, DEFAULT_QUEUE_OPTIONS, defineQueue, defineRegistry } from './queue'
import { queues } from './registry'

describe('titles from the registry', () => {
  it('titles exports by their query, without the form labels', () => {
    expect(
      queues.title({ queue: 'exports', payload: { nameContains: 'san', country: 'BR', minPopulation: 5000 } }),
    ).toBe('Cities · “san” · BR · pop. ≥ 5,000')
    expect(queues.title({ queue: 'exports', payload: {} })).toBe('Cities · all of them')
  })

  it('titles the welcome email by its action, and unknown deferred actions by their name', () => {
    expect(
      queues.title({
        queue: 'deferred',
        payload: { action: 'send_welcome_email', input: { email: 'ada@example.com' } },
      }),
    ).toBe('Welcome email to ada@example.com')
    expect(queues.title({ queue: 'deferred', payload: { action: 'sync_crm', input: {} } })).toBe(
      'Deferred action sync_crm',
    )
  })

  it('falls back to the label for a payload the schema no longer accepts, and to the name for an unknown queue', () => {
    expect(queues.title({ queue: 'exports', payload: { country: 'nowhere' } })).toBe('Export')
    expect(queues.title({ queue: 'thumbnails', payload: {} })).toBe('Job on thumbnails')
  })
})

describe('filters and labels from the registry', () => {
  it('lists every registered queue once, in order, with its label', () => {
    expect(queues.names).toEqual(['exports', 'imports', 'deferred'])
    expect(queues.names.map(queues.label)).toEqual(['Export', 'Import', 'Deferred action'])
    expect(queues.label('gone')).toBe('gone')
  })
})

describe('results and downloads from the registry', () => {
  const result = { fileName: 'cities-1.csv', rows: 12_000, bytes: 345_678, downloadUrl: '/downloads/1' }

  it('parses a completed export result and offers its file', () => {
    const job = { queue: 'exports', state: 'completed' as const, result }
    expect(queues.result(job)?.value).toEqual(result)
    expect(queues.download(job)).toEqual({
      href: '/downloads/1',
      fileName: 'cities-1.csv',
      expiresAt: undefined,
      detail: '12,000 rows',
    })
  })

  it('offers nothing before completion, for a result the schema rejects, or for a queue without files', () => {
    expect(queues.download({ queue: 'exports', state: 'active', result })).toBeNull()
    expect(queues.result({ queue: 'exports', state: 'completed', result: { rows: 'many' } })).toBeNull()
    expect(queues.download({ queue: 'deferred', state: 'completed', result: { messageId: 'x' } })).toBeNull()
    expect(queues.result({ queue: 'deferred', state: 'completed', result: { messageId: 'x' } })?.value).toEqual({
      messageId: 'x',
    })
  })
})

describe('defineQueue', () => {
  it('fills in the documented defaults', () => {
    const q = defineQueue({ name: 'thumbnails', payload: z.strictObject({ imageId: z.string() }) })
    expect(q.label).toBe('thumbnails')
    expect(q.title({ imageId: 'a' })).toBe('thumbnails')
    expect(q.limitPerOwner).toBe(DEFAULT_LIMIT_PER_OWNER)
    expect(q.options).toEqual({})
    expect(q.download(null)).toBeNull()
    expect(q.renderResult).toBeNull()
    expect(q.result.parse({ anything: [1] })).toEqual({ anything: [1] })
    expect(DEFAULT_QUEUE_OPTIONS.retryLimit).toBe(2)
  })

  it.each(['', 'Thumbnails', '1st', 'a b', 'x'.repeat(51)])('refuses the queue name %j', (name) => {
    expect(() => defineQueue({ name, payload: z.object({}) })).toThrow(/queue name/)
  })

  it('refuses a limit per owner below 1 or not whole', () => {
    expect(() => defineQueue({ name: 'q', payload: z.object({}), limitPerOwner: 0 })).toThrow(/limitPerOwner/)
    expect(() => defineQueue({ name: 'q', payload: z.object({}), limitPerOwner: 1.5 })).toThrow(/limitPerOwner/)
  })
})

describe('defineRegistry', () => {
  const thumbnails = defineQueue({ name: 'thumbnails', label: 'Thumbnail', payload: z.object({}) })

  it('composes: a registry of the app queues plus one more', () => {
    const mine = defineRegistry({ ...queues.queues, thumbnails })
    expect(mine.names).toEqual(['exports', 'imports', 'deferred', 'thumbnails'])
    expect(mine.label('thumbnails')).toBe('Thumbnail')
    expect(queues.get('thumbnails')).toBeUndefined()
  })

  it('refuses a key that is not the queue name', () => {
    expect(() => defineRegistry({ thumbs: thumbnails })).toThrow(/must be its queue's name/)
  })
})
