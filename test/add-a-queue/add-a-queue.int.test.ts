/**
 * The "Add a queue" recipe, proved: a queue defined only through the public contracts (its own
 * contract, handler and result renderer in this folder, plus the registry line in ./registry.ts)
 * is enqueued, run by the real worker, and its result parsed by its contract and shown by its
 * renderer in the same JobCard every page uses. No other file of the app knows about it.
 */
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { ZodError } from 'zod'
import { JobCard } from '@/app/_components/job-card'
import { enqueue } from '@/lib/server/enqueue-limited'
import { setupTestDatabase, setupTestWorker, waitForJob } from '@/test/kit'
import { cityStatsQueue } from './city-stats'
import { testProviders, testQueues } from './registry'

const db = setupTestDatabase()
const worker = setupTestWorker(db, Object.values(testProviders))
const owner = '71717171-7171-4717-8717-717171717171'

describe('a queue added through the public contracts', () => {
  it('runs, and its result is parsed by its contract and shown by its own renderer on the job card', async () => {
    // Form input as typed: the contract's schema trims and upper-cases it before it is stored.
    const outcome = await enqueue(db.pool, cityStatsQueue, { ownerId: owner, payload: { country: ' ad ' } })
    if (outcome.kind !== 'enqueued') throw new Error(`expected a job, got ${outcome.kind}`)
    expect(outcome.job.payload).toEqual({ country: 'AD' })
    const done = await waitForJob(db.url, outcome.job.id, 'completed')

    const { rows } = await db.pool.query<{ cities: number; population: string; name: string; largest: string }>(
      `SELECT count(*) OVER ()::int AS cities, (sum(c.population) OVER ())::text AS population, c.name,
              c.population::text AS largest
       FROM app.cities c WHERE c.country = 'AD' ORDER BY c.population DESC, c.id LIMIT 1`,
    )
    const expected = rows[0]!
    expect(expected.cities).toBeGreaterThan(0)
    const parsed = testQueues.result(done)
    expect(parsed?.contract).toBe(cityStatsQueue)
    expect(parsed?.value).toEqual({
      country: 'AD',
      cities: expected.cities,
      population: Number(expected.population),
      largest: { name: expected.name, population: Number(expected.largest) },
    })
    expect(testQueues.title(done)).toBe('City statistics · AD')
    expect(testQueues.names).toContain('city_stats')

    const html = renderToStaticMarkup(createElement(JobCard, { job: done, registry: testQueues, as: 'div' }))
    const numbers = new Intl.NumberFormat('en-US')
    expect(html).toContain(
      `${numbers.format(expected.cities)} cities in AD, ${numbers.format(Number(expected.population))} people; ` +
        `the largest is ${expected.name} (${numbers.format(Number(expected.largest))}).`,
    )
    expect(html).toContain('aria-label="City statistics progress"')
    expect(html).toContain(`href="/jobs/${done.id}"`)
    expect(html).toContain('>Completed<')
    expect(html).toContain('Done.')
    // A queue without `download` produces no file, so no Download link.
    expect(html).not.toContain('Download')
  })

  it('refuses a payload its contract rejects before anything is stored', async () => {
    const before = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1', [
      owner,
    ])
    await expect(enqueue(db.pool, cityStatsQueue, { ownerId: owner, payload: { country: 'AND' } })).rejects.toThrow(
      ZodError,
    )
    const after = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.jobs WHERE owner_id = $1', [
      owner,
    ])
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n)
  })

  it('holds each owner to the contract’s limit by default, and only an explicit "unlimited" goes past it', async () => {
    // With no worker running, jobs stay queued, so the count is what the limit sees.
    await worker.stop(1000)
    const flooder = '72727272-7272-4727-8727-727272727272'
    const request = { ownerId: flooder, payload: { country: 'LI' } }
    const outcomes = [
      await enqueue(db.pool, cityStatsQueue, request),
      await enqueue(db.pool, cityStatsQueue, request),
      await enqueue(db.pool, cityStatsQueue, request),
    ]
    expect(outcomes.map((o) => o.kind)).toEqual(['enqueued', 'enqueued', 'limited'])
    expect(outcomes[2]).toEqual({ kind: 'limited', limit: cityStatsQueue.limitPerOwner })
    expect((await enqueue(db.pool, cityStatsQueue, request, { limit: 'unlimited' })).kind).toBe('enqueued')
    expect((await enqueue(db.pool, cityStatsQueue, request, { limit: 5 })).kind).toBe('enqueued')
  })
})
