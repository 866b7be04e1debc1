/**
 * Batched completion: completions that arrive while a batch is being written go together in the
 * next one, so a busy queue pays one transaction per batch, not one per job.
 */

/** Completions written in one transaction at most. */
const COMPLETION_BATCH = 200

/** One completion waiting for its batch. */
export interface PendingCompletion<A> {
  attempt: A
  result: unknown
}

export class CompletionBatch<A> {
  private pending: (PendingCompletion<A> & { done: (err?: unknown) => void })[] = []
  private flushing = false

  /** `write` stores one batch (in one transaction); a batch that fails rejects each of its completions. */
  constructor(private readonly write: (batch: PendingCompletion<A>[]) => Promise<void>) {}

  /** Resolves once the batch holding this completion was written. */
  add(attempt: A, result: unknown): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ attempt, result, done: (err) => (err ? reject(err) : resolve()) })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, COMPLETION_BATCH)
        try {
          await this.write(batch)
          for (const c of batch) c.done()
        } catch (err) {
          for (const c of batch) c.done(err)
        }
      }
    } finally {
      this.flushing = false
    }
  }
}
