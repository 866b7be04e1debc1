/**
 * Settles attempts: `app.jobs` and pg-boss in one transaction, our record first and fenced by
 * attempt (only the attempt that still owns the job changes anything), pg-boss only when our
 * record changed, so a late or duplicate settle never overrides the first. Completions are
 * batched (`CompletionBatch`); every write is retried while the database is unreachable (`durably`).
 */
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { JobProgress } from '@/lib/jobs/job'
import { withTransaction } from '@/lib/server/db'
import { completeMany, lockActiveAttempt, markRetrying, settleJob } from '@/lib/server/job-store'
import { onConnection, type AttemptRef } from '@/lib/server/pgboss'
import type { Logger } from '../logger'
import { CompletionBatch, type PendingCompletion } from './completion-batch'
import { durably } from './durable-write'
import type { AttemptOutcome } from './outcome'

/** The attempt being settled: which one, and its final progress (kept when `null`). */
export interface SettledAttempt extends AttemptRef {
  /** 1-based attempt number (`retryCount + 1`). */
  attempt: number
  progress: JobProgress | null
}

export class Settler {
  private readonly completions = new CompletionBatch<SettledAttempt>((batch) => this.completeBatch(batch))

  constructor(
    private readonly options: { pool: pg.Pool; boss: PgBoss; queue: string; maxAttempts: number; log: Logger },
  ) {}

  /** Settles `attempt` with `outcome`; resolves once written (or found already settled by another path). */
  settle(attempt: SettledAttempt, outcome: AttemptOutcome): Promise<void> {
    const { boss, queue } = this.options
    switch (outcome.kind) {
      case 'completed':
        return this.completions.add(attempt, outcome.result)
      case 'cancelled':
        return this.settleOnce(attempt, { state: 'cancelled', progress: attempt.progress }, (db) =>
          boss.cancel(queue, attempt, db),
        )
      case 'failed':
        // pg-boss retries every fail() while retries remain; a failure that must not be retried
        // is recorded as cancelled in pg-boss and as failed in app.jobs.
        if (!outcome.retryable)
          return this.settleOnce(attempt, { state: 'failed', error: outcome.error, progress: attempt.progress }, (db) =>
            boss.cancel(queue, attempt, db),
          )
        return this.failIntoRetry(attempt, outcome)
    }
  }

  private async completeBatch(batch: PendingCompletion<SettledAttempt>[]): Promise<void> {
    await this.durably(() =>
      withTransaction(this.options.pool, async (client) => {
        const settled = await completeMany(
          client,
          batch.map(({ attempt, result }) => ({
            id: attempt.id,
            attempt: attempt.attempt,
            result: result ?? null,
            progress: attempt.progress,
          })),
        )
        // pg-boss keeps no output: results live in app.jobs.
        const ours = batch.filter((c) => settled.has(c.attempt.id)).map((c) => c.attempt)
        if (ours.length) await this.options.boss.complete(this.options.queue, ours, null, onConnection(client))
      }),
    )
  }

  private async settleOnce(
    attempt: SettledAttempt,
    outcome: Parameters<typeof settleJob>[3],
    boss: (db: ReturnType<typeof onConnection>) => Promise<unknown>,
  ): Promise<void> {
    await this.durably(() =>
      withTransaction(this.options.pool, async (client) => {
        if (await settleJob(client, attempt.id, attempt.attempt, outcome)) await boss(onConnection(client))
      }),
    )
  }

  /**
   * Fails the attempt into pg-boss's retry: back to queued when attempts remain (pg-boss schedules
   * the retry with its backoff, and `retryAt` says when), failed otherwise.
   */
  private async failIntoRetry(attempt: SettledAttempt, outcome: Extract<AttemptOutcome, { kind: 'failed' }>) {
    const { boss, queue } = this.options
    await this.durably(() =>
      withTransaction(this.options.pool, async (client) => {
        const db = onConnection(client)
        if (!(await lockActiveAttempt(client, attempt.id, attempt.attempt))) return
        await boss.fail(queue, attempt, { ...outcome.error }, db)
        if (attempt.attempt >= this.options.maxAttempts) {
          await settleJob(client, attempt.id, attempt.attempt, {
            state: 'failed',
            error: outcome.error,
            progress: attempt.progress,
          })
          return
        }
        // pg-boss computed the retry's start (retryDelay, retryBackoff with jitter): show it.
        const [retry] = await boss.findJobs<unknown>(queue, { id: attempt.id, ...db })
        await markRetrying(client, attempt.id, attempt.attempt, outcome.error, retry?.startAfter ?? null)
      }),
    )
  }

  private durably(write: () => Promise<void>): Promise<void> {
    return durably(write, this.options.log)
  }
}
