/**
 * CSV written by PostgreSQL: the fast path for exports whose rows come straight from a query.
 * `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER)` formats the rows in the database (about
 * ten times faster than formatting them in JavaScript); `CopyCsv` below only adds what COPY
 * cannot: the BOM, CRLF record ends, and a running count of records for progress. Together with
 * `app.csv_text()` on every text column (workers/migrations/1733000001400_csv-text.sql), the bytes
 * equal those of `csvStringifier` in ./csv.ts, the path for rows formatted in JavaScript.
 */
import { Transform, type TransformCallback } from 'node:stream'
import pg from 'pg'

const LF = 0x0a
const QUOTE = 0x22
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

export interface CopyCsvOptions {
  /** Call `onRecords` each time this many more records have passed. Default 2,000. */
  recordsPerCall?: number
  /**
   * Called with the number of data records so far (the header row is not counted) each time
   * `recordsPerCall` more have passed. May throw to stop the export (for example
   * `checkCancelled()`): the error is the stream's error.
   */
  onRecords?: (records: number) => void
  /**
   * Called after each chunk with the records so far. A returned promise holds the next chunk back
   * until it settles, and with it (through backpressure) the database's COPY: used to cap a rate.
   * A rejection is the stream's error.
   */
  afterChunk?: (records: number) => Promise<void> | undefined
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
  private readonly recordsPerCall: number
  private readonly ends: number[] = []

  constructor(private readonly options: CopyCsvOptions = {}) {
    super()
    this.recordsPerCall = options.recordsPerCall ?? 2_000
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let wait: Promise<void> | undefined
    try {
      if (!this.started) {
        this.started = true
        this.push(BOM)
      }
      this.push(this.withCrlf(chunk))
      wait = this.options.afterChunk?.(this.records)
    } catch (err) {
      return callback(err as Error)
    }
    if (wait) wait.then(() => callback(), callback)
    else callback()
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
      if (!inQuotes) {
        ends.push(lf)
        this.countRecord()
      }
      from = lf + 1
    }
    this.inQuotes = inQuotes
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

  private countRecord(): void {
    if (this.headerPending) {
      this.headerPending = false
      return
    }
    this.records++
    if (this.records % this.recordsPerCall === 0) this.options.onRecords?.(this.records)
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
