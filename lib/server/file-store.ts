/**
 * Job output files (exports), stored in PostgreSQL as parts of `PART_BYTES` (the last one less).
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
 * stored. `bytes` counts what was written. Parts are exactly `PART_BYTES` (the last one less), and
 * at most two are held in memory: one being stored, one filling. `idle()` resolves once no part is
 * being stored: an aborted pipeline returns while the last INSERT may still run, so wait for it
 * before deleting a partial file, or that part outlives the delete.
 */
export function createFileWriter(
  db: Queryable,
  jobId: string,
  attempt: number,
): Writable & { bytes: number; idle(): Promise<void> } {
  // Two part buffers, allocated once and reused in turn. Each written chunk is copied into the
  // filling one at once, so the chunk is garbage as soon as write() returns: chunks kept until a
  // part is full would outlive the young generation's collections, and a new buffer per part
  // (Buffer.concat) is a megabyte of garbage more; both only leave the process at the next GC.
  let filling: Buffer | undefined
  let spare: Buffer | undefined
  let filled = 0
  let part = 0
  // The chain of stores, in part order; the first one deletes earlier attempts' files (even when
  // this attempt's file turns out empty).
  let inflight: Promise<void> = deleteEarlierAttempts(db, jobId, attempt)
  inflight.catch(() => undefined)
  /**
   * Queues the filled bytes as the next part and swaps in the spare buffer to fill; resolves when
   * the part stored before this one is, which is when that spare buffer may be written again.
   */
  const storeFilled = (): Promise<void> => {
    const previous = inflight
    if (filled > 0) {
      const data = filling!.subarray(0, filled)
      const index = part++
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
      ;[filling, spare] = [spare, filling]
      filled = 0
    }
    return previous
  }
  /** Copies `chunk` from `offset` into the filling part, as much as fits; returns the offset reached. */
  const copy = (chunk: Buffer, offset: number): number => {
    filling ??= Buffer.allocUnsafeSlow(PART_BYTES)
    const n = chunk.copy(filling, filled, offset)
    filled += n
    return offset + n
  }
  /**
   * Frees both part buffers now, once no INSERT can still read them. They live as long as the
   * export, so V8 has moved them to the old generation, which it collects rarely: left to the
   * garbage collector, each finished export's two megabytes stayed in the worker's memory.
   */
  const release = () => {
    for (const buffer of [filling, spare]) (buffer?.buffer as ArrayBuffer | undefined)?.transfer(0)
    filling = spare = undefined
  }
  const writer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writer.bytes += chunk.length
      let offset = copy(chunk, 0)
      if (filled < PART_BYTES) return callback()
      // One part is stored while the next one fills (the source keeps streaming), and no more:
      // the write is acknowledged once the part before this one is stored. A chunk larger than
      // what is left of the part continues in the next one, once its buffer is free.
      const rest = async () => {
        while (filled === PART_BYTES) {
          await storeFilled()
          if (offset < chunk.length) offset = copy(chunk, offset)
        }
      }
      rest().then(() => callback(), callback)
    },
    final(callback) {
      storeFilled()
      inflight.then(() => callback(), callback)
    },
    // After the last part is stored, or on a failure or abort (once the running INSERT, if any, is done).
    destroy(err, callback) {
      void inflight.catch(() => undefined).then(release)
      callback(err)
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
