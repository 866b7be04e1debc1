/**
 * Watches every change of `app.jobs` the way the realtime server does (LISTEN on the job-change
 * channel), keeping each job's snapshots in arrival order with the time they arrived, so tests can
 * wait for a state, count database writes, and check what happened in between. No polling.
 */
import pg from 'pg'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { JobSnapshot } from '@/lib/jobs/job'
import { beforeAll } from 'vitest'
import type { FileDatabase } from './kit'

export interface Seen {
  snapshot: JobSnapshot
  /** Date.now() when the notification arrived. */
  at: number
  /** Whether the NOTIFY carried the snapshot (false: over the 8000-byte limit, read from the row). */
  inline: boolean
}

export interface JobWatch {
  /** Snapshots of `jobId` in arrival order. */
  seen(jobId: string): Seen[]
  /** Resolves with the first snapshot of `jobId` (already seen or not) matching `predicate`. */
  next(jobId: string, predicate: (s: JobSnapshot) => boolean, timeoutMs?: number): Promise<Seen>
  close(): Promise<void>
}

/** Starts listening; every change committed after this resolves is seen. */
export async function watchJobs(url: string): Promise<JobWatch> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const byJob = new Map<string, Seen[]>()
  const waiters = new Set<{ jobId: string; predicate: (s: JobSnapshot) => boolean; resolve: (s: Seen) => void }>()
  let failure: Error | null = null
  const add = (seen: Seen) => {
    const list = byJob.get(seen.snapshot.id) ?? []
    list.push(seen)
    byJob.set(seen.snapshot.id, list)
    for (const w of waiters) {
      if (w.jobId === seen.snapshot.id && w.predicate(seen.snapshot)) {
        waiters.delete(w)
        w.resolve(seen)
      }
    }
  }
  client.on('notification', (n) => {
    const at = Date.now()
    const payload = JSON.parse(n.payload ?? '{}') as { id: string; snapshot: unknown }
    if (payload.snapshot) return add({ snapshot: JobSnapshot.parse(payload.snapshot), at, inline: true })
    client
      .query<{ snapshot: unknown }>('SELECT app.job_snapshot(j) AS snapshot FROM app.jobs j WHERE id = $1', [
        payload.id,
      ])
      .then(({ rows }) => rows[0] && add({ snapshot: JobSnapshot.parse(rows[0].snapshot), at, inline: false }))
      .catch((err: Error) => {
        failure = err
      })
  })
  await client.query(`LISTEN ${JOB_CHANGED_CHANNEL}`)
  return {
    seen: (jobId) => [...(byJob.get(jobId) ?? [])],
    next(jobId, predicate, timeoutMs = 30_000) {
      if (failure) return Promise.reject(failure)
      const already = byJob.get(jobId)?.find((s) => predicate(s.snapshot))
      if (already) return Promise.resolve(already)
      return new Promise((resolve, reject) => {
        const waiter = {
          jobId,
          predicate,
          resolve: (s: Seen) => {
            clearTimeout(timer)
            resolve(s)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          const last = byJob.get(jobId)?.at(-1)?.snapshot
          reject(
            new Error(
              `job ${jobId}: no matching change within ${timeoutMs} ms (last seen: ${last ? JSON.stringify({ state: last.state, attempt: last.attempt, error: last.error }) : 'nothing'})`,
            ),
          )
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
    close: () => client.end(),
  }
}

/**
 * Watches `db` for this test file: from `beforeAll` (after the hooks registered before this call,
 * such as the database's) until after the file's tests, closed before the database is dropped.
 * Its members throw if used before the file's `beforeAll`.
 */
export function setupJobWatch(db: FileDatabase): JobWatch {
  let watch: JobWatch | undefined
  const current = () => {
    if (!watch) throw new Error('setupJobWatch: used before beforeAll started the watch')
    return watch
  }
  beforeAll(async () => {
    watch = await watchJobs(db.url)
    db.onTeardown(() => watch?.close())
  })
  return {
    seen: (jobId) => current().seen(jobId),
    next: (jobId, predicate, timeoutMs) => current().next(jobId, predicate, timeoutMs),
    close: () => current().close(),
  }
}
