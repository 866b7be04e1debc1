/**
 * Assembles a worker process: migrations, pg-boss, the realtime server and one QueueRunner per
 * registered queue, wired to PostgreSQL LISTEN/NOTIFY. `startWorker` is used by workers/main.ts
 * and by the integration tests, so tests run exactly what production runs.
 */
import { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { JOB_CHANGED_CHANNEL } from '@/lib/jobs/events'
import { createPool } from '@/lib/server/db'
import { cancelRequestedAmong } from '@/lib/server/job-store'
import { PGBOSS_SCHEMA, reconcileLostJobs, reconcileOrphanedJobs } from '@/lib/server/pgboss'
import type { Logger } from './logger'
import { startMaintenance } from './maintenance'
import { migrateApp } from './migrate'
import { DEFAULT_QUEUE_OPTIONS, type QueueClass } from './queue-service'
import { QueueRunner } from './runner/queue-runner'
import type { RunnerTiming } from './runner/timing'
import { JobChangedNotification, startRealtime, type Realtime } from './realtime'

export interface WorkerOptions {
  databaseUrl: string
  queues: QueueClass[]
  secret: string
  log: Logger
  /** socket.io port; 0 picks a free one; `null` runs realtime headless (broadcast only). */
  realtimePort: number | null
  origins: string[]
  /** How often running jobs are checked for a cancel request when NOTIFY is lost, in ms. Default 1000. */
  cancelPollMs?: number
  /** How often records of attempts pg-boss gave up on (lost worker, expiry) are brought in line, in ms. Default 5000. */
  reconcileMs?: number
  timing?: Partial<RunnerTiming>
}

export interface Worker {
  boss: PgBoss
  pool: pg.Pool
  realtime: Realtime
  runners: Map<string, QueueRunner>
  /** Graceful stop: no new fetches, running jobs get `graceMs` (default 10 s), then everything closes in order. */
  stop(graceMs?: number): Promise<void>
}

/**
 * pg-boss `retentionSeconds` of every queue: how long a job may wait (created or retry) before
 * pg-boss deletes it; its default is 14 days. Our record would then show "Waiting for a worker…"
 * forever, so pg-boss never deletes a waiting job (the largest value its integer column holds,
 * about 68 years); our own retention removes jobs once they settled (workers/maintenance.ts).
 */
export const PGBOSS_RETENTION_SECONDS = 2_147_483_647

export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { log } = options
  await migrateApp(options.databaseUrl, log)

  const concurrency = options.queues.length * 4
  const pool = createPool(options.databaseUrl, { max: 10 + concurrency, applicationName: 'nbj-worker' })
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: PGBOSS_SCHEMA,
    application_name: 'nbj-worker-boss',
    max: 10,
    // pg-boss finds expired attempts and lost heartbeats in its monitor pass: every 10 s instead
    // of the default 60, so a crashed worker's job is retried within heartbeatSeconds + 10 s.
    monitorIntervalSeconds: 10,
    superviseIntervalSeconds: 10,
  })
  boss.on('error', (err) => log.warn(`pg-boss: ${(err as Error).message}`))
  await boss.start()

  const realtime = await startRealtime({
    pool,
    secret: options.secret,
    log,
    port: options.realtimePort,
    origins: options.origins,
  })

  const runners = new Map<string, QueueRunner>()
  for (const Queue of options.queues) {
    const queue = new Queue({ pool })
    const { name } = queue.contract
    if (runners.has(name)) throw new Error(`two handlers for queue ${name}`)
    // No pg-boss NOTIFY per job: our own job-change notification wakes the runner (below).
    const queueOptions = {
      ...DEFAULT_QUEUE_OPTIONS,
      ...queue.contract.options,
      notify: false,
      retentionSeconds: PGBOSS_RETENTION_SECONDS,
    }
    // createQueue keeps the first writer's options; updateQueue makes this deploy's options win.
    await boss.createQueue(name, queueOptions)
    await boss.updateQueue(name, queueOptions)
    runners.set(name, new QueueRunner({ boss, pool, queue, log, timing: options.timing, publish: realtime.publish }))
  }

  const cancelIfRunning = (jobId: string) => {
    for (const runner of runners.values())
      if (runner.cancel(jobId)) log.info(`job ${jobId}: cancel requested, handler aborted`)
  }
  const pollCancels = async () => {
    const ids = [...runners.values()].flatMap((r) => r.activeJobIds)
    for (const id of await cancelRequestedAmong(pool, ids)) cancelIfRunning(id)
  }

  const db = boss.getDb()
  if (!db.listen) throw new Error('pg-boss database adapter cannot LISTEN')
  // One listener for everything a job change means here: wake the runner of a queue that has a
  // job queued (a new job, a retry, an operator's retry), abort a running job whose owner
  // cancelled, and tell the owner's sockets.
  const wakeAll = () => runners.forEach((r) => r.wake())
  const listeners = [
    await db.listen(
      JOB_CHANGED_CHANNEL,
      (payload) => {
        let notification: JobChangedNotification
        try {
          notification = JobChangedNotification.parse(JSON.parse(payload))
        } catch {
          wakeAll()
          return log.warn('ignored a malformed job change notification')
        }
        const snapshot = notification.snapshot
        if (!snapshot) {
          // Too large to carry its snapshot: its queue and state are unknown here.
          wakeAll()
          void pollCancels().catch(() => undefined)
        } else if (snapshot.state === 'queued') runners.get(String(snapshot.queue))?.wake()
        else if (snapshot.cancelRequested === true && snapshot.state === 'active') cancelIfRunning(notification.id)
        realtime.onJobChanged(notification).catch((err) => log.warn(`realtime emit failed: ${(err as Error).message}`))
      },
      // (Re)connected: NOTIFYs sent while the listener was down are lost. Runners fetch, open tabs
      // get every job changed meanwhile as it is now, and running jobs whose cancel was asked are aborted.
      () => {
        wakeAll()
        void pollCancels().catch(() => undefined)
        realtime
          .catchUp()
          .then((n) => n && log.info(`realtime caught up on ${n} job change(s) after the listener (re)connected`))
          .catch((err) => log.warn(`realtime catch-up failed: ${(err as Error).message}`))
      },
    ),
  ]

  // Polling fallback for cancel requests whose NOTIFY was lost (for example during a reconnect).
  const cancelPoll = setInterval(() => {
    pollCancels().catch((err) => log.warn(`cancel poll failed: ${(err as Error).message}`))
  }, options.cancelPollMs ?? 1000)

  // A worker that died (kill -9, lost host) cannot update its jobs' records: pg-boss's monitor
  // retries or fails them, and this brings app.jobs in line so owners see "worker lost, retrying".
  // Records whose pg-boss job is gone altogether are settled as failed (JOB_LOST).
  const reconcile = setInterval(() => {
    const localIds = [...runners.values()].flatMap((r) => r.activeJobIds)
    reconcileLostJobs(pool, localIds)
      .then((n) => n && log.warn(`${n} job(s) lost by a stopped worker were handed back to pg-boss's retry`))
      .then(() => reconcileOrphanedJobs(pool, localIds))
      .then((n) => n && log.warn(`${n} job(s) whose pg-boss job was deleted were settled as failed (JOB_LOST)`))
      .catch((err) => log.warn(`reconcile failed: ${(err as Error).message}`))
  }, options.reconcileMs ?? 5000)

  await startMaintenance(boss, pool, log)
  for (const runner of runners.values()) runner.start()
  log.info(
    `worker running queues: ${[...runners.keys()].join(', ')}${realtime.port ? `; realtime on port ${realtime.port}` : ''}`,
  )

  let stopped: Promise<void> | null = null
  return {
    boss,
    pool,
    realtime,
    runners,
    stop(graceMs = 10_000) {
      stopped ??= (async () => {
        await Promise.all([...runners.values()].map((r) => r.stop(graceMs)))
        clearInterval(cancelPoll)
        clearInterval(reconcile)
        await Promise.all(listeners.map((l) => l.close().catch(() => undefined)))
        await realtime.close()
        await boss.stop({ graceful: false, close: true })
        await pool.end()
      })()
      return stopped
    },
  }
}
