/**
 * Hard crash: a worker process is killed with SIGKILL in the middle of a job. Nothing in that
 * process runs again, so everything the owner sees next comes from the surviving worker: pg-boss's
 * heartbeat monitor and the reconciler of lost jobs.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { enqueueJob } from '@/lib/server/enqueue'
import { bossJobState } from '@/lib/server/pgboss'
import { setupTestDatabase } from './kit'
import { type FaultItem } from './fault-queues'
import { setupJobWatch } from './job-watch'
import { startWorkerProcess, stopAll, stopProcess } from './processes'

/** heartbeatSeconds of the fault queues (pg-boss's minimum). */
const HEARTBEAT_S = 10
const owner = '66666666-6666-4666-8666-666666666666'

const db = setupTestDatabase()
const watch = setupJobWatch(db)

afterAll(async () => {
  await stopAll()
})

function enqueue(queue: 'fault-retry' | 'fault-final', item: Partial<FaultItem>) {
  return enqueueJob(db.pool, { queue, ownerId: owner, payload: item })
}

async function bossState(queue: string, id: string): Promise<string | undefined> {
  return (await bossJobState(db.pool, queue, id)) ?? undefined
}

describe('a worker killed with kill -9 in the middle of a job', () => {
  it(
    'shows "worker lost, retrying" within the heartbeat window and the next worker completes the job as attempt 2; with no retries left the job fails as worker lost',
    { timeout: 120_000 },
    async () => {
      const first = await startWorkerProcess(db.url, 'worker-1')
      // Both hold their worker until it dies; a retry of `retried` finishes at once.
      const retried = await enqueue('fault-retry', { workMs: 600_000, slowAttempts: 1 })
      const final = await enqueue('fault-final', { workMs: 600_000 })
      await first.waitForLine(new RegExp(`started ${retried.id} attempt 1`))
      await first.waitForLine(new RegExp(`started ${final.id} attempt 1`))
      // The bar the owner would otherwise see frozen: half way, written to the row.
      await watch.next(retried.id, (s) => s.state === 'active' && s.progress?.current === 50)
      await watch.next(final.id, (s) => s.state === 'active' && s.progress?.current === 50)

      // The survivor is up before the crash, as in a deployment with two workers.
      const second = await startWorkerProcess(db.url, 'worker-2')
      const killedAt = Date.now()
      expect((await stopProcess(first, 'SIGKILL')).signal).toBe('SIGKILL')

      // Worst case: the last heartbeat just before the kill, lost HEARTBEAT_S later, found by
      // pg-boss's next monitor pass (every 10 s), brought into the record by the next reconcile
      // (every 5 s): 25 s. Plus 15 s for a busy machine, where timers and queries run late.
      const limitMs = (HEARTBEAT_S + 10 + 5 + 15) * 1000
      const [lost, lostFinal] = await Promise.all([
        watch.next(retried.id, (s) => s.attempt >= 1 && !(s.state === 'active' && s.attempt === 1), limitMs + 10_000),
        watch.next(final.id, (s) => s.attempt >= 1 && s.state !== 'active', limitMs + 10_000),
      ])
      const detectedMs = { retried: lost.at - killedAt, final: lostFinal.at - killedAt }
      console.log(
        `[crash] record left "active" ${detectedMs.retried} ms (retries left) and ${detectedMs.final} ms (none left) after kill -9`,
      )
      expect(detectedMs.retried).toBeLessThan(limitMs)
      expect(detectedMs.final).toBeLessThan(limitMs)

      // Retries left: queued again, saying why and when the retry starts, the bar kept where it was.
      expect(lost.snapshot).toMatchObject({
        state: 'queued',
        attempt: 1,
        maxAttempts: 2,
        error: { code: 'WORKER_LOST', message: expect.stringMatching(/stopped responding/) },
        retryAt: expect.any(String),
        progress: { current: 50, total: 100 },
        settledAt: null,
      })
      // None left: failed for good, for the same reason.
      expect(lostFinal.snapshot).toMatchObject({
        state: 'failed',
        attempt: 1,
        maxAttempts: 1,
        error: { code: 'WORKER_LOST' },
        retryAt: null,
        settledAt: expect.any(String),
      })
      expect(await bossState('fault-final', final.id)).toBe('failed')

      const done = await watch.next(retried.id, (s) => s.state === 'completed', 30_000)
      expect(done.snapshot).toMatchObject({
        attempt: 2,
        maxAttempts: 2,
        result: { attempt: 2 },
        error: null,
        retryAt: null,
        progress: { current: 100, total: 100 },
      })
      // The retry waited for the time the owner was shown.
      expect(Date.parse(done.snapshot.startedAt!)).toBeGreaterThanOrEqual(Date.parse(lost.snapshot.retryAt!) - 1_000)
      expect(second.stdout()).toMatch(new RegExp(`started ${retried.id} attempt 2`))
      expect(await bossState('fault-retry', retried.id)).toBe('completed')

      // The failed job stays failed: nothing retried it behind the owner's back.
      expect(second.stdout()).not.toContain(final.id)

      // Ordered by seq, the record only moved forward: active(1) -> queued WORKER_LOST -> active(2) -> completed.
      const path = watch
        .seen(retried.id)
        .map((s) => s.snapshot)
        .sort((a, b) => a.seq - b.seq)
        .map((s) => `${s.state}:${s.attempt}${s.error ? `:${s.error.code}` : ''}`)
      const collapsed = path.filter((step, i) => step !== path[i - 1])
      expect(collapsed).toEqual(['queued:0', 'active:1', 'queued:1:WORKER_LOST', 'active:2', 'completed:2'])

      expect((await stopProcess(second)).code).toBe(0)
    },
  )
})
