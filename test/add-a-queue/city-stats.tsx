/**
 * The README's "Add a queue" example, compiled and run by add-a-queue.int.test.ts: a queue's
 * contract with its result renderer. In an app this file is lib/jobs/city-stats.tsx.
 */
import { z } from 'zod'
import { defineQueue } from '@/lib/jobs/queue'

export const CityStatsItem = z.strictObject({
  country: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'Use a two-letter country code, like BR.')
    .transform((s) => s.toUpperCase()),
})
export type CityStatsItem = z.infer<typeof CityStatsItem>

export const CityStats = z.object({
  country: z.string(),
  cities: z.number().int().nonnegative(),
  population: z.number().int().nonnegative(),
  largest: z.object({ name: z.string(), population: z.number().int().nonnegative() }).nullable(),
})
export type CityStats = z.infer<typeof CityStats>

const numbers = new Intl.NumberFormat('en-US')

export const cityStatsQueue = defineQueue({
  name: 'city_stats',
  label: 'City statistics',
  payload: CityStatsItem,
  result: CityStats,
  title: ({ country }) => `City statistics · ${country}`,
  options: { retryLimit: 1, expireInSeconds: 60 },
  limitPerOwner: 2,
  renderResult: ({ country, cities, population, largest }) => (
    <p>
      {numbers.format(cities)} cities in {country}, {numbers.format(population)} people
      {largest && `; the largest is ${largest.name} (${numbers.format(largest.population)})`}.
    </p>
  ),
})
