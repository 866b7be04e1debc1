/**
 * Waits for jobs to reach a state through the `app.jobs` trigger's NOTIFY, as the realtime server
 * does, so the bench never sleeps to find out that a job settled. It reads the snapshot each
 * notification carries: an observer that queried the row on every change would compete with the
 * worker for the same two cores at the very moments the latency scenarios time (a claim runs
 * while the `queued` notification arrives).
 */
import pg from 'pg'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { JobSnapshot, type JobState } from '@/lib/jobs/job'

/**
 * How long after a wait begins the watcher reads the job once, in ms: for a change notified
 * before the wait was registered. Every later change arrives as a notification.
 */
const SAFETY_READ_MS = 100

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
      for (const id of this.waiters.keys()) if (payload.includes(id)) this.onChange(id, payload)
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
      // Already listening: every change from now on is notified. A read catches one notified
      // before this wait was registered.
      setTimeout(() => {
        if (this.waiters.get(id)?.timer === timer) void this.check(id)
      }, SAFETY_READ_MS).unref()
    })
  }

  /** A notification about a waited job: its snapshot, or a read when it was too large to carry one. */
  private onChange(id: string, payload: string): void {
    let snapshot: JobSnapshot | null
    try {
      const carried = (JSON.parse(payload) as { snapshot?: unknown }).snapshot
      if (carried == null) return void this.check(id)
      snapshot = JobSnapshot.parse(carried)
    } catch (err) {
      return this.fail(id, err as Error)
    }
    this.resolveIfReached(id, snapshot)
  }

  private check(id: string): Promise<void> {
    this.reads = this.reads.then(() => this.read(id))
    return this.reads
  }

  private async read(id: string): Promise<void> {
    if (!this.waiters.has(id)) return
    try {
      const { rows } = await this.client.query<{ snapshot: unknown }>(
        'SELECT app.job_snapshot(j) AS snapshot FROM app.jobs j WHERE j.id = $1',
        [id],
      )
      this.resolveIfReached(id, rows[0] ? JobSnapshot.parse(rows[0].snapshot) : null)
    } catch (err) {
      this.fail(id, err as Error)
    }
  }

  /** Resolves the wait for `id` if `snapshot` is in one of its states. */
  private resolveIfReached(id: string, snapshot: JobSnapshot | null): void {
    const waiter = this.waiters.get(id)
    if (!waiter || !snapshot || !waiter.states.includes(snapshot.state)) return
    clearTimeout(waiter.timer)
    this.waiters.delete(id)
    waiter.resolve(snapshot)
  }

  /** Rejects the wait for `id`: its snapshot could not be read or parsed. */
  private fail(id: string, err: Error): void {
    const waiter = this.waiters.get(id)
    if (!waiter) return
    clearTimeout(waiter.timer)
    this.waiters.delete(id)
    waiter.reject(err)
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
