/**
 * Settling writes that survive a short database outage: a restart must not leave a finished
 * attempt "active" until pg-boss counts it lost.
 */
import { isDatabaseUnavailable } from '@/lib/server/db'
import type { Logger } from '../logger'

/** Retries after an unreachable database, at most (0.5 s doubling to 15 s: about 90 s in all). */
const MAX_RETRIES = 8

/**
 * Runs `write`, retrying with backoff while the database is unreachable. Other errors, and an
 * outage that outlasts the retries, are thrown.
 */
export async function durably(write: () => Promise<void>, log: Logger): Promise<void> {
  for (let retry = 0; ; retry++) {
    try {
      return await write()
    } catch (err) {
      if (!isDatabaseUnavailable(err) || retry >= MAX_RETRIES) throw err
      log.warn(`database unavailable while settling (${(err as Error).message}); retrying`)
      await new Promise((resolve) => setTimeout(resolve, Math.min(15_000, 500 * 2 ** retry)))
    }
  }
}
