/**
 * The README's "Add a queue" example handler. In an app this file is workers/queues/city-stats-queue.ts.
 */
import { QueueService } from '@/workers/queue-service'
import { cityStatsQueue, type CityStats, type CityStatsItem } from './city-stats'

export class CityStatsQueue extends QueueService<typeof cityStatsQueue> {
  readonly contract = cityStatsQueue
  readonly workerCount = 2

  async handleItem({ country }: CityStatsItem): Promise<CityStats> {
    const { pool } = this.deps
    this.reportProgress({ current: 0, total: 2, message: 'Counting cities...' })
    const totals = await pool.query<{ cities: number; population: string }>(
      'SELECT count(*)::int AS cities, coalesce(sum(population), 0)::text AS population FROM app.cities WHERE country = $1',
      [country],
    )
    this.checkCancelled()
    this.reportProgress({ current: 1, total: 2, message: 'Finding the largest city...' })
    const largest = await pool.query<{ name: string; population: number }>(
      'SELECT name, population::float8 AS population FROM app.cities WHERE country = $1 ORDER BY population DESC, id LIMIT 1',
      [country],
    )
    this.reportProgress({ current: 2, total: 2, message: 'Done.' })
    return {
      country,
      cities: totals.rows[0]?.cities ?? 0,
      population: Number(totals.rows[0]?.population ?? 0),
      largest: largest.rows[0] ?? null,
    }
  }
}
