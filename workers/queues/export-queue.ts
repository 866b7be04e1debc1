/**
 * Exports world cities matching a query as a CSV file, with progress per chunk and cancellation
 * between chunks. The file is stored for its owner only (lib/server/file-store.ts).
 */
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import QueryStream from 'pg-query-stream'
import { EXPORTS_QUEUE, ExportItem, type ExportResult } from '@/lib/jobs/exports'
import { CITY_COLUMNS, citiesWhere } from '@/lib/server/cities'
import { csvStringifier } from '@/lib/server/csv'
import { exportFileTtlHours, exportRowsPerSecond } from '@/lib/server/env'
import { createFileWriter, deleteFile } from '@/lib/server/file-store'
import { QueueService, type QueueOptions } from '../queue-service'

const numberFormat = new Intl.NumberFormat('en-US')

export class ExportQueue extends QueueService<ExportItem, ExportResult> {
  readonly name: string = EXPORTS_QUEUE
  readonly workerCount = 2
  readonly itemSchema = ExportItem
  readonly options: QueueOptions = { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 }

  /** Rows between two progress reports and cancellation checks. Default 2,000. */
  protected readonly progressEveryRows: number = 2_000

  /** Row-rate cap from EXPORT_ROWS_PER_SECOND (none by default). */
  private readonly rowsPerSecond = exportRowsPerSecond()

  async handleItem(item: ExportItem): Promise<ExportResult> {
    const { pool } = this.deps
    const { jobId, attempt } = this.job
    this.reportProgress({ current: 0, total: 0, message: 'Counting rows...' })
    const { where, values } = citiesWhere(item)
    const counted = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM app.cities ${where}`, values)
    const total = counted.rows[0]?.n ?? 0
    this.checkCancelled()

    const client = await pool.connect()
    const writer = createFileWriter(pool, jobId, attempt)
    let written = 0
    let failed = false
    const startedAt = Date.now()
    const { rowsPerSecond, signal, progressEveryRows } = this
    const totalText = numberFormat.format(total)
    // Formatted only when the report is written or sent, not on every call.
    const writing = ({ current }: { current: number }) =>
      `Writing ${numberFormat.format(current)} of ${totalText} rows...`
    /** Reports and checks for cancellation; returns a promise only when the row-rate cap says wait. */
    const onChunk = (): Promise<void> | undefined => {
      this.reportProgress({ current: written, total, message: writing })
      this.checkCancelled()
      if (!rowsPerSecond) return undefined
      const ahead = (written / rowsPerSecond) * 1000 - (Date.now() - startedAt)
      return ahead > 0 ? sleep(ahead, undefined, { signal }).catch(() => this.checkCancelled()) : undefined
    }
    try {
      // A cursor-backed stream: rows arrive in batches, never the whole result in memory.
      const rows = client.query(
        new QueryStream(`SELECT ${CITY_COLUMNS.join(', ')} FROM app.cities ${where} ORDER BY id`, values, {
          batchSize: 1_000,
        }),
      )
      // pg-cursor's close() never calls back once the cursor's connection has died (a database
      // restart; brianc/node-postgres#2642), and pipeline() waits for every stream to close: the
      // export would hang for good. Skip the close then; that connection is discarded below.
      const closeCursor = rows._destroy.bind(rows)
      rows._destroy = (err, cb) => (rows.cursor.state === 'error' ? cb(err) : closeCursor(err, cb))
      await pipeline(
        rows,
        async function* countRows(source: AsyncIterable<Record<string, unknown>>) {
          for await (const row of source) {
            yield row
            written++
            if (written % progressEveryRows === 0) {
              const wait = onChunk()
              if (wait) await wait
            }
          }
        },
        csvStringifier([...CITY_COLUMNS]),
        writer,
        { signal },
      )
    } catch (err) {
      failed = true
      // Cancelled or failed: no partial file may stay behind or be offered for download. The
      // pipeline rejects at once on abort, while a part may still be being stored: wait for it first.
      await writer.idle()
      await deleteFile(pool, jobId, attempt).catch(() => undefined)
      throw err
    } finally {
      // A stream stopped mid-query leaves its connection in an unknown state: discard it.
      client.release(failed)
    }
    this.reportProgress({ current: written, total: written, message: `Exported ${numberFormat.format(written)} rows.` })
    const fileName = `cities-${jobId.slice(0, 8)}.csv`
    const expiresAt = new Date(Date.now() + exportFileTtlHours() * 3_600_000).toISOString()
    return { fileName, rows: written, bytes: writer.bytes, downloadUrl: `/downloads/${jobId}`, expiresAt }
  }
}
