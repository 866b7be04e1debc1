/**
 * Exports world cities matching a query as a CSV file written by PostgreSQL's COPY, with progress
 * and cancellation as the bytes pass. The file is stored for its owner only (lib/server/file-store.ts).
 * Rows you format in JavaScript instead (computed columns, other sources): see csvStringifier in
 * lib/server/csv.ts.
 */
import { AsyncResource } from 'node:async_hooks'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { to as copyTo } from 'pg-copy-streams'
import { exportsQueue, type ExportItem, type ExportResult } from '@/lib/jobs/exports'
import { citiesCsvCopy, citiesWhere } from '@/lib/server/cities'
import { CopyCsv } from '@/lib/server/csv-copy'
import { workerEnv } from '@/lib/server/env'
import { createFileWriter, deleteFile } from '@/lib/server/file-store'
import { QueueService } from '../queue-service'

const numberFormat = new Intl.NumberFormat('en-US')

export class ExportQueue extends QueueService<typeof exportsQueue> {
  readonly contract = exportsQueue
  readonly workerCount = 2

  /** Rows between two progress reports. Default 2,000. Cancellation is checked on every chunk of bytes (about 64 kB). */
  protected readonly progressEveryRows: number = 2_000

  /** Row-rate cap from EXPORT_ROWS_PER_SECOND (none by default), read when a job runs: building a queue needs no environment. */
  private get rowsPerSecond(): number | undefined {
    return workerEnv().EXPORT_ROWS_PER_SECOND
  }

  async handleItem(item: ExportItem): Promise<ExportResult> {
    const { pool } = this.deps
    // The job's bound reporter: reporting every row (progressEveryRows = 1) then skips the
    // per-call lookup of the current job.
    const { jobId, attempt, reportProgress } = this.job
    reportProgress({ current: 0, total: 0, message: 'Counting rows...' })
    const { where, values } = citiesWhere(item)
    const counted = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM app.cities ${where}`, values)
    const total = counted.rows[0]?.n ?? 0
    this.checkCancelled()

    const client = await pool.connect()
    const writer = createFileWriter(pool, jobId, attempt)
    let failed = false
    const startedAt = Date.now()
    const { rowsPerSecond, signal } = this
    const totalText = numberFormat.format(total)
    // Formatted only when the report is written or sent, not on every call.
    const writing = ({ current }: { current: number }) =>
      `Writing ${numberFormat.format(current)} of ${totalText} rows...`
    const every = this.progressEveryRows
    // The stream calls this from socket events, outside handleItem's async context, where
    // checkCancelled could not find its job: bind it to that context here, once (one context
    // switch per chunk; the bound reporter needs none).
    const onChunk = AsyncResource.bind((records: number, added: number): Promise<void> | undefined => {
      // A report at every multiple of progressEveryRows this chunk passed (every row when it is 1).
      for (let current = records - added + every - ((records - added) % every); current <= records; current += every)
        reportProgress(current, total, writing)
      this.checkCancelled()
      if (!rowsPerSecond) return undefined
      // The cap holds this chunk back; backpressure pauses the connection, and COPY waits.
      const ahead = (records / rowsPerSecond) * 1000 - (Date.now() - startedAt)
      return ahead > 0 ? sleep(ahead, undefined, { signal }).catch(() => this.checkCancelled()) : undefined
    })
    // PostgreSQL writes the CSV (lib/server/csv-copy.ts); Node adds the BOM and CRLFs and counts
    // records as the bytes pass.
    const csv = new CopyCsv({ onChunk })
    try {
      await pipeline(client.query(copyTo(citiesCsvCopy(item))), csv, writer, { signal })
    } catch (err) {
      failed = true
      // Cancelled or failed: no partial file may stay behind or be offered for download. The
      // pipeline rejects at once on abort, while a part may still be being stored: wait for it first.
      await writer.idle()
      await deleteFile(pool, jobId, attempt).catch(() => undefined)
      throw err
    } finally {
      // A COPY stopped midway leaves its connection in an unknown state: discard it.
      client.release(failed)
    }
    const written = csv.records
    reportProgress({ current: written, total: written, message: `Exported ${numberFormat.format(written)} rows.` })
    const fileName = `cities-${jobId.slice(0, 8)}.csv`
    const expiresAt = new Date(Date.now() + workerEnv().EXPORT_FILE_TTL_HOURS * 3_600_000).toISOString()
    return { fileName, rows: written, bytes: writer.bytes, downloadUrl: `/downloads/${jobId}`, expiresAt }
  }
}
