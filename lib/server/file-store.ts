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

/**
 * A Writable that stores everything written to it as the file of job `jobId`, replacing any
 * earlier file of that job (a retried attempt starts over). `bytes` counts what was stored. At
 * most two parts are held in memory: one being stored, one filling.
 * `idle()` resolves once no part is being stored: an aborted pipeline returns while the last
 * INSERT may still run, so wait for it before deleting a partial file, or that part outlives the delete.
 */
export function createFileWriter(db: Queryable, jobId: string): Writable & { bytes: number; idle(): Promise<void> } {
  let buffered: Buffer[] = []
  let bufferedBytes = 0
  let part = 0
  // The chain of stores, in part order; the first one deletes any earlier file of the job.
  let inflight: Promise<void> = deleteFile(db, jobId)
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
        await db.query('INSERT INTO app.job_file_parts (job_id, part, data) VALUES ($1, $2, $3)', [jobId, index, data])
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

/** Removes the stored file of `jobId`, if any. */
export async function deleteFile(db: Queryable, jobId: string): Promise<void> {
  await db.query('DELETE FROM app.job_file_parts WHERE job_id = $1', [jobId])
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
