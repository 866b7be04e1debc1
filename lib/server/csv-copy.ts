/**
 * CSV written by PostgreSQL: the fast path for exports whose rows come straight from a query.
 * `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER)` formats the rows in the database (about
 * ten times faster than formatting them in JavaScript); `CopyCsv` below only adds what COPY
 * cannot: the BOM, CRLF record ends, and a running count of records for progress. Together with
 * `app.csv_text()` on every text column (workers/migrations/1734000000000_core-jobs.sql), the bytes
 * equal those of `csvStringifier` in ./csv.ts, the path for rows formatted in JavaScript.
 */
import { Transform, type TransformCallback } from 'node:stream'
import pg from 'pg'

const LF = 0x0a
const QUOTE = 0x22
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

export interface CopyCsvOptions {
  /**
   * Called once per chunk of bytes, before the chunk is passed on, with the data records so far
   * (the header row is not counted) and how many of them this chunk completed. Throwing stops
   * the stream with that error and passes nothing more on (for example `checkCancelled()`). A
   * returned promise holds the chunk, and with it (through backpressure) the database's COPY,
   * until it settles: used to cap a rate. A rejection is the stream's error.
   */
  onChunk?: (records: number, added: number) => Promise<void> | undefined
}

/**
 * A Transform from the bytes of `COPY ... TO STDOUT WITH (FORMAT csv, HEADER)` to our CSV file:
 * a UTF-8 BOM, then the same records with CRLF after each one. COPY ends records with a bare LF
 * and quotes every field that contains a CR or LF, so a LF outside quotes is a record end and one
 * inside quotes is data, kept as it is (the JavaScript writer does the same). Quote state carries
 * across chunks: a record may be split anywhere. `records` counts the data records passed so far.
 */
export class CopyCsv extends Transform {
  /** Data records passed so far, header excluded. */
  records = 0
  private inQuotes = false
  private headerPending = true
  private started = false
  private readonly ends: number[] = []

  constructor(private readonly options: CopyCsvOptions = {}) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out: Buffer
    let wait: Promise<void> | undefined
    try {
      const before = this.records
      out = this.withCrlf(chunk)
      wait = this.options.onChunk?.(this.records, this.records - before)
    } catch (err) {
      return callback(err as Error)
    }
    const pass = () => {
      if (!this.started) {
        this.started = true
        this.push(BOM)
      }
      this.push(out)
      callback()
    }
    if (wait) wait.then(pass, callback)
    else pass()
  }

  override _flush(callback: TransformCallback): void {
    if (!this.started) this.push(BOM)
    if (this.inQuotes) return callback(new Error('CSV from COPY ended inside a quoted field'))
    callback()
  }

  /** Finds the record ends of `chunk` (LF outside quotes), counts them, and inserts a CR before each. */
  private withCrlf(chunk: Buffer): Buffer {
    const ends = this.ends
    ends.length = 0
    let inQuotes = this.inQuotes
    let quote = chunk.indexOf(QUOTE)
    let from = 0
    for (;;) {
      const lf = chunk.indexOf(LF, from)
      // Every quote before this LF flips the state; a doubled quote ("") flips it twice.
      while (quote !== -1 && (lf === -1 || quote < lf)) {
        inQuotes = !inQuotes
        quote = chunk.indexOf(QUOTE, quote + 1)
      }
      if (lf === -1) break
      if (!inQuotes) ends.push(lf)
      from = lf + 1
    }
    this.inQuotes = inQuotes
    // The first record end is the header's.
    const header = this.headerPending && ends.length > 0 ? 1 : 0
    if (header) this.headerPending = false
    this.records += ends.length - header
    if (ends.length === 0) return chunk
    const out = Buffer.allocUnsafe(chunk.length + ends.length)
    let read = 0
    let written = 0
    for (const lf of ends) {
      written += chunk.copy(out, written, read, lf)
      out[written++] = 0x0d
      out[written++] = LF
      read = lf + 1
    }
    chunk.copy(out, written, read)
    return out
  }
}

/**
 * `COPY (select) TO STDOUT WITH (FORMAT csv, HEADER)`. COPY takes no bind parameters: put values
 * into `select` with `sqlLiteral`, never by concatenating them.
 */
export function copyCsvStatement(select: string): string {
  return `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER)`
}

/**
 * A value as a quoted SQL literal (node-postgres' `escapeLiteral`: quotes doubled, backslashes
 * escaped), for statements that take no parameters such as COPY. PostgreSQL casts it to the type
 * of what it is compared with.
 */
export function sqlLiteral(value: string | number): string {
  return pg.escapeLiteral(String(value))
}
