/**
 * Job output files (exports), stored in PostgreSQL as parts of about `PART_BYTES` (a part is
 * stored once that much is buffered, so it can exceed it by one written chunk).
 * Keeping them in the database means the web tier needs no disk shared with the worker, so it
 * can run on a serverless host. To use object storage instead, reimplement these three functions.
 */
import { Writable } from 'node:stream'
import type { Queryable } from './db'

/** Size of one stored part, in bytes (1 MiB). */
export const PART_BYTES = 1024 * 1024

/** SQLSTATE the file-part fence raises (workers/migrations/1734000000000_core-jobs.sql). */
const NOT_OWNING_ATTEMPT = 'NBJ01'

/**
 * Whether `err` is the database refusing a file part because its attempt no longer owns the job
 * (it was settled without its handler: expired, cancelled or interrupted, and maybe retried).
 */
export function isLateAttemptWrite(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === NOT_OWNING_ATTEMPT
}

/**
 * A Writable that stores everything written to it as the file of job `jobId`, written by its
 * `attempt` (1-based), replacing any earlier attempt's file (a retried attempt starts over).
 * Every part is fenced by attempt in the database: once `attempt` no longer owns the job, the
 * next part fails the stream with an error `isLateAttemptWrite` recognises, and nothing of it is
 * stored. `bytes` counts what was written. At most two parts are held in memory: one being
 * stored, one filling. `idle()` resolves once no part is being stored: an aborted pipeline returns
 * while the last INSERT may still run, so wait for it before deleting a partial file, or that part
 * outlives the delete.
 */
export function createFileWriter(
  db: Queryable,
  jobId: string,
  attempt: number,
): Writable & { bytes: number; idle(): Promise<void> } {
  let buffered: Buffer[] = []
  let bufferedBytes = 0
  let part = 0
  // The chain of stores, in part order; the first one deletes earlier attempts' files (even when
  // this attempt's file turns out empty).
  let inflight: Promise<void> = deleteEarlierAttempts(db, jobId, attempt)
  inflight.catch(() => undefined)
  /** Queues the buffered bytes as the next part; resolves when the part stored before it is. */
  const storeBuffered = (): Promise<void> => {
    const previous = inflight
    if (bufferedBytes > 0) {
      const data = Buffer.concat(buffered, bufferedBytes)
      const index = part++
      buffered = []
      bufferedBytes = 0
      inflight = previous.then(async () => {
        await db.query('INSERT INTO app.job_file_parts (job_id, part, data, attempt) VALUES ($1, $2, $3, $4)', [
          jobId,
          index,
          data,
          attempt,
        ])
      })
      // Handled here so a failure between two writes is not an unhandled rejection; the next
      // write, final() or idle() still sees it.
      inflight.catch(() => undefined)
    }
    return previous
  }
  const writer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      buffered.push(chunk)
      bufferedBytes += chunk.length
      writer.bytes += chunk.length
      if (bufferedBytes < PART_BYTES) return callback()
      // One part is stored while the next one fills (the source keeps streaming), and no more:
      // the write is acknowledged once the part before this one is stored.
      storeBuffered().then(() => callback(), callback)
    },
    final(callback) {
      storeBuffered()
      inflight.then(() => callback(), callback)
    },
  }) as Writable & { bytes: number; idle(): Promise<void> }
  writer.bytes = 0
  writer.idle = () => inflight.catch(() => undefined)
  return writer
}

/**
 * Removes earlier attempts' parts of `jobId`, only while `attempt` owns the job (so an attempt
 * whose file is empty still replaces an earlier one, and a late attempt deletes nothing).
 */
async function deleteEarlierAttempts(db: Queryable, jobId: string, attempt: number): Promise<void> {
  await db.query(
    `DELETE FROM app.job_file_parts p
      WHERE p.job_id = $1 AND p.attempt <> $2
        AND EXISTS (SELECT 1 FROM app.jobs j WHERE j.id = $1 AND j.attempt = $2 AND j.state = 'active')`,
    [jobId, attempt],
  )
}

/** Removes the stored file of `jobId`: all of it, or only what `attempt` wrote (a failed attempt's partial file). */
export async function deleteFile(db: Queryable, jobId: string, attempt?: number): Promise<void> {
  if (attempt === undefined) await db.query('DELETE FROM app.job_file_parts WHERE job_id = $1', [jobId])
  else await db.query('DELETE FROM app.job_file_parts WHERE job_id = $1 AND attempt = $2', [jobId, attempt])
}

/**
 * Streams the stored file of `jobId`, one part (query) at a time, so memory stays at one part.
 * The caller must have checked that the viewer owns the job.
 */
export function readFile(db: Queryable, jobId: string): ReadableStream<Uint8Array> {
  let part = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { rows } = await db.query<{ data: Buffer }>(
        'SELECT data FROM app.job_file_parts WHERE job_id = $1 AND part = $2',
        [jobId, part++],
      )
      const row = rows[0]
      if (row) controller.enqueue(new Uint8Array(row.data))
      else controller.close()
    },
  })
}
