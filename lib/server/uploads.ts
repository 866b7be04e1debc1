/**
 * Uploaded CSV files, streamed from a request body into PostgreSQL (`app.uploads`,
 * `app.upload_parts`) a part at a time: the web tier holds at most one part (about 1 MiB) plus
 * one network chunk of a file, whatever its size, and stops reading at the size limit.
 * The first bytes are checked before anything is stored, so a file that is not a cities CSV
 * is refused at once, as a field error, and creates nothing.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { parse } from 'csv-parse/sync'
import { checkImportHeader, type ImportColumn } from '@/lib/jobs/imports'
import type { Queryable } from './db'
import { PART_BYTES } from './file-store'

/** Bytes read before deciding whether a file is a cities CSV (64 KiB): its header must end within them. */
export const SNIFF_BYTES = 64 * 1024

const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** A stored upload, ready to be named in an import's payload. */
export interface StoredUpload {
  id: string
  fileName: string
  bytes: number
  columns: ImportColumn[]
}

/**
 * - `stored`: the whole file is in `app.uploads` (`upload.id`), owned by the caller.
 * - `invalid`: not a cities CSV (empty, not UTF-8 text, no or a wrong header); `message` is
 *   safe to show next to the file field. Nothing was stored.
 * - `too_large`: more than `maxBytes` bytes (declared or read); nothing is kept, and reading
 *   stopped at the limit.
 */
export type UploadOutcome =
  | { kind: 'stored'; upload: StoredUpload }
  | { kind: 'invalid'; message: string }
  | { kind: 'too_large'; maxBytes: number }

/**
 * Checks the start of a file: `head` is its first bytes, `complete` says whether that is all of
 * it. Accepts UTF-8 text, with or without a BOM, whose first record is the import header
 * (`checkImportHeader`), with LF or CRLF line ends. Pure: unit-tested without a database.
 */
export function checkCsvStart(
  head: Buffer,
  complete: boolean,
): { ok: true; columns: ImportColumn[] } | { ok: false; message: string } {
  const body = head.subarray(0, 3).equals(BOM) ? head.subarray(3) : head
  if (body.toString('utf8').trim() === '') return { ok: false, message: 'The file is empty.' }
  const notText = { ok: false as const, message: 'This is not a CSV file: it is not UTF-8 text.' }
  if (body.includes(0)) return notText
  try {
    // `stream` while more follows: a character cut at the end of `head` is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(body, { stream: !complete })
  } catch {
    return notText
  }
  const newline = body.indexOf(0x0a)
  if (newline === -1 && !complete) {
    return { ok: false, message: 'This is not a cities CSV file: its first line is longer than 64 KB.' }
  }
  const line = body.subarray(0, newline === -1 ? body.length : newline).toString('utf8')
  let header: string[] | undefined
  try {
    header = (parse(line, { relax_column_count: true }) as string[][])[0]
  } catch {
    return { ok: false, message: 'This is not a CSV file: its first line is not a valid CSV record.' }
  }
  const checked = checkImportHeader(header ?? [])
  if (!checked.ok) return checked
  if (
    complete &&
    body
      .subarray(newline === -1 ? body.length : newline + 1)
      .toString('utf8')
      .trim() === ''
  ) {
    return { ok: false, message: 'The file has a header but no rows.' }
  }
  return checked
}

/**
 * Reads `body` and stores it as an upload of `ownerId`, checking its start first (see
 * `UploadOutcome`). `declaredBytes` (the request's Content-Length, if any) over `maxBytes` is
 * refused before reading; otherwise reading stops as soon as more than `maxBytes` arrived.
 * Parts are written one at a time and the body is not read while a part is written, so memory
 * stays at one part however large the file. On a refusal or an error nothing is left stored;
 * errors (the client went away, the database failed) are rethrown.
 */
export async function receiveUpload(
  db: Queryable,
  body: ReadableStream<Uint8Array> | null,
  options: { ownerId: string; fileName: string; maxBytes: number; declaredBytes?: number },
): Promise<UploadOutcome> {
  const { maxBytes } = options
  if (options.declaredBytes !== undefined && options.declaredBytes > maxBytes) {
    await body?.cancel().catch(() => undefined)
    return { kind: 'too_large', maxBytes }
  }
  if (!body) return { kind: 'invalid', message: 'The file is empty.' }
  const reader = body.getReader()
  let received = 0
  let uploadId: string | null = null
  try {
    // 1. The head: enough bytes to hold the header line.
    const head: Buffer[] = []
    let headBytes = 0
    let done = false
    // The whole head, even past the header line: a small file is then read to its end, so
    // "a header and no rows" is caught here too.
    while (headBytes < SNIFF_BYTES) {
      const next = await reader.read()
      if (next.done) {
        done = true
        break
      }
      received += next.value.byteLength
      if (received > maxBytes) return await refuse(reader, maxBytes)
      head.push(Buffer.from(next.value))
      headBytes += next.value.byteLength
    }
    const first = Buffer.concat(head, headBytes)
    const checked = checkCsvStart(first, done)
    if (!checked.ok) {
      if (!done) await reader.cancel().catch(() => undefined)
      return { kind: 'invalid', message: checked.message }
    }

    // 2. The whole file, a part at a time.
    const id = randomUUID()
    await db.query('INSERT INTO app.uploads (id, owner_id, file_name) VALUES ($1, $2, $3)', [
      id,
      options.ownerId,
      options.fileName,
    ])
    uploadId = id
    let part = 0
    let pending: Buffer[] = [first]
    let pendingBytes = first.length
    const flush = async () => {
      if (pendingBytes === 0) return
      const data = Buffer.concat(pending, pendingBytes)
      pending = []
      pendingBytes = 0
      await db.query('INSERT INTO app.upload_parts (upload_id, part, data) VALUES ($1, $2, $3)', [id, part++, data])
    }
    while (!done) {
      if (pendingBytes >= PART_BYTES) await flush()
      const next = await reader.read()
      if (next.done) break
      received += next.value.byteLength
      if (received > maxBytes) {
        await deleteUpload(db, id)
        uploadId = null
        return await refuse(reader, maxBytes)
      }
      // Copied: the reader may reuse its chunk's memory after the next read.
      pending.push(Buffer.from(next.value))
      pendingBytes += next.value.byteLength
    }
    await flush()
    await db.query('UPDATE app.uploads SET bytes = $2 WHERE id = $1', [id, received])
    uploadId = null
    return { kind: 'stored', upload: { id, fileName: options.fileName, bytes: received, columns: checked.columns } }
  } catch (err) {
    await reader.cancel().catch(() => undefined)
    throw err
  } finally {
    // Set only while a partly stored upload must not outlive a refusal or an error.
    if (uploadId) await deleteUpload(db, uploadId).catch(() => undefined)
  }
}

async function refuse(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number): Promise<UploadOutcome> {
  await reader.cancel().catch(() => undefined)
  return { kind: 'too_large', maxBytes }
}

/**
 * The stored bytes of upload `id` as a Node stream, one part (query) at a time. The caller
 * must have checked who owns it.
 */
export function readUpload(db: Queryable, id: string): Readable {
  let part = 0
  return new Readable({
    read() {
      db.query<{ data: Buffer }>('SELECT data FROM app.upload_parts WHERE upload_id = $1 AND part = $2', [id, part++])
        .then(({ rows }) => this.push(rows[0] ? rows[0].data : null))
        .catch((err: Error) => this.destroy(err))
    },
  })
}

/** The upload `id` of `ownerId`, or null when there is none (deleted, or someone else's). */
export async function findUpload(
  db: Queryable,
  id: string,
  ownerId: string,
): Promise<{ id: string; fileName: string; bytes: number } | null> {
  const { rows } = await db.query<{ id: string; file_name: string; bytes: number }>(
    'SELECT id, file_name, bytes FROM app.uploads WHERE id = $1 AND owner_id = $2',
    [id, ownerId],
  )
  const row = rows[0]
  return row ? { id: row.id, fileName: row.file_name, bytes: row.bytes } : null
}

/** Deletes upload `id` and its parts, if any. */
export async function deleteUpload(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM app.uploads WHERE id = $1', [id])
}
