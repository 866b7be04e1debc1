/**
 * A queue whose handler the test drives step by step from another process, for realtime tests
 * across processes (test/worker-entry.ts with WORKER_QUEUES=remote). The handler LISTENs on
 * `REMOTE_CHANNEL`, prints `[remote] listening <jobId>` once it does, then for each instruction
 * for its job reports the progress it is given, until an instruction says `finish`.
 */
import pg from 'pg'
import { z } from 'zod'
import { defineQueue } from '@/lib/jobs/queue'
import { QueueService } from '@/workers/queue-service'

export const REMOTE_CHANNEL = 'nbj_test_remote'

export const RemoteItem = z.strictObject({
  /** Padding that makes the job's snapshot (and so every packet about it) as large as a test needs. */
  pad: z.string().default(''),
})
export type RemoteItem = z.infer<typeof RemoteItem>

/** One instruction, sent as JSON with `pg_notify(REMOTE_CHANNEL, ...)`. */
export const RemoteInstruction = z.strictObject({
  jobId: z.uuid(),
  progress: z.strictObject({ current: z.number(), total: z.number(), message: z.string() }).optional(),
  finish: z.boolean().optional(),
})
export type RemoteInstruction = z.infer<typeof RemoteInstruction>

export const remoteQueue = defineQueue({
  name: 'remote',
  payload: RemoteItem,
  result: z.strictObject({ steps: z.number().int() }),
  options: { retryLimit: 0, heartbeatSeconds: 10 },
})

export class RemoteQueue extends QueueService<typeof remoteQueue> {
  readonly contract = remoteQueue
  readonly workerCount = 2

  async handleItem() {
    const { jobId } = this.job
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await client.connect()
    const inbox: RemoteInstruction[] = []
    let arrived: (() => void) | null = null
    client.on('notification', (n) => {
      const instruction = RemoteInstruction.parse(JSON.parse(n.payload ?? '{}'))
      if (instruction.jobId !== jobId) return
      inbox.push(instruction)
      arrived?.()
    })
    try {
      await client.query(`LISTEN ${REMOTE_CHANNEL}`)
      console.log(`[remote] listening ${jobId}`)
      let steps = 0
      for (;;) {
        if (inbox.length === 0) await new Promise<void>((resolve) => (arrived = resolve))
        const next = inbox.shift()!
        if (next.finish) return { steps }
        if (next.progress) {
          this.reportProgress(next.progress)
          steps++
        }
      }
    } finally {
      await client.end()
    }
  }
}
