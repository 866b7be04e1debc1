/**
 * Waits for jobs to reach a state through the `app.jobs` trigger's NOTIFY, as the realtime server
 * does, so the bench never sleeps to find out that a job settled.
 */
import pg from 'pg'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { JobSnapshot, type JobState } from '@/lib/jobs/job'

interface Waiter {
  states: readonly JobState[]
  resolve(snapshot: JobSnapshot): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

/** One LISTEN connection shared by every wait; `close()` it when done. */
export class JobWatcher {
  private readonly waiters = new Map<string, Waiter>()
  /** Reads run one after another: a pg.Client must not be handed a query while one is running. */
  private reads: Promise<void> = Promise.resolve()

  private constructor(private readonly client: pg.Client) {
    client.on('notification', (n) => {
      const payload = n.payload ?? ''
      // Most notifications are about jobs nobody waits for: skip them before parsing.
      for (const id of this.waiters.keys()) if (payload.includes(id)) void this.check(id)
    })
  }

  /** Connects to `url` and starts listening. */
  static async open(url: string): Promise<JobWatcher> {
    const client = new pg.Client({ connectionString: url, application_name: 'nbj-bench-watcher' })
    await client.connect()
    await client.query(`LISTEN ${JOB_CHANGED_CHANNEL}`)
    return new JobWatcher(client)
  }

  /**
   * Resolves with the job's snapshot once it is in one of `states`; rejects after `timeoutMs`.
   * Only one wait per job at a time.
   */
  waitFor(id: string, states: readonly JobState[], timeoutMs: number): Promise<JobSnapshot> {
    return new Promise<JobSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id)
        reject(new Error(`job ${id} did not reach ${states.join('/')} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.set(id, { states, resolve, reject, timer })
      // Already listening, then read: a change between the two is caught by one or the other.
      void this.check(id)
    })
  }

  private check(id: string): Promise<void> {
    this.reads = this.reads.then(() => this.read(id))
    return this.reads
  }

  private async read(id: string): Promise<void> {
    try {
      const { rows } = await this.client.query<{ snapshot: unknown }>(
        'SELECT app.job_snapshot(j) AS snapshot FROM app.jobs j WHERE j.id = $1',
        [id],
      )
      const waiter = this.waiters.get(id)
      if (!waiter || !rows[0]) return
      const snapshot = JobSnapshot.parse(rows[0].snapshot)
      if (!waiter.states.includes(snapshot.state)) return
      clearTimeout(waiter.timer)
      this.waiters.delete(id)
      waiter.resolve(snapshot)
    } catch (err) {
      const waiter = this.waiters.get(id)
      if (!waiter) return
      clearTimeout(waiter.timer)
      this.waiters.delete(id)
      waiter.reject(err as Error)
    }
  }

  /** Stops listening; pending waits are rejected. */
  async close(): Promise<void> {
    for (const [id, waiter] of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error(`watcher closed while waiting for job ${id}`))
    }
    this.waiters.clear()
    await this.client.end()
  }
}
