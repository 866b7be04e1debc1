/**
 * Imports an uploaded CSV of cities: parses it as a stream (RFC 4180, BOM or not, CRLF or LF),
 * validates every row with zod, stages valid rows and rejections in batches with progress and
 * cancellation between batches, then publishes the rows in one transaction. A cancelled or
 * failed import leaves nothing visible; a completed one returns its counts and where to look.
 */
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse, type Info } from 'csv-parse'
import {
  importsQueue,
  checkImportHeader,
  parseImportRow,
  type ImportColumn,
  type ImportItem,
  type ImportResult,
} from '@/lib/jobs/imports'
import { workerEnv } from '@/lib/server/env'
import {
  discardAttempt,
  discardEarlierAttempts,
  findPublication,
  publishImport,
  recordRejections,
  stageRows,
  type ImportAttempt,
  type Rejection,
  type StagedRow,
} from '@/lib/server/imports'
import { deleteUpload, findUpload, readUpload } from '@/lib/server/uploads'
import { JobCancelledError, QueueService } from '../queue-service'

const numbers = new Intl.NumberFormat('en-US')

/** Longest record accepted, in bytes: bounds memory when a quote is never closed. */
const MAX_RECORD_BYTES = 1024 * 1024

export class ImportQueue extends QueueService<typeof importsQueue> {
  readonly contract = importsQueue
  readonly workerCount = 1

  /** Rows staged per statement, and between two progress reports and cancellation checks. Default 1,000. */
  protected readonly batchRows: number = 1_000

  /** Row-rate cap from IMPORT_ROWS_PER_SECOND (none by default), read when a job runs: building a queue needs no environment. */
  protected get rowsPerSecond(): number | undefined {
    return workerEnv().IMPORT_ROWS_PER_SECOND
  }

  async handleItem(item: ImportItem): Promise<ImportResult> {
    const { pool } = this.deps
    const { jobId, ownerId, attempt } = this.job
    const result = (counts: { imported: number; rejected: number }): ImportResult => ({
      fileName: item.fileName,
      imported: counts.imported,
      rejected: counts.rejected,
      rowsUrl: `/imports/${jobId}`,
      rejectedUrl: counts.rejected > 0 ? `/imports/${jobId}/rejected` : null,
    })
    // A retry after a publish that committed (the worker died before completing the job): the
    // rows are already the owner's, so importing again would make a second copy.
    const published = await findPublication(pool, jobId)
    if (published) return result(published)

    const upload = await findUpload(pool, item.uploadId, ownerId)
    if (!upload) this.failJob({ error: 'The uploaded file is no longer available. Upload it again.' })
    const me: ImportAttempt = { jobId, attempt }
    await discardEarlierAttempts(pool, me)

    this.reportProgress({ current: 0, total: item.bytes, message: 'Reading the file...' })
    try {
      const columns = await this.stage(me, upload.id, item.bytes)
      this.checkCancelled()
      const outcome = await publishImport(pool, me, { ownerId, uploadId: upload.id, columns })
      if (outcome.kind === 'cancel_requested') {
        // The cancel is in the database; its abort may still be on its way to this worker.
        if (!this.signal.aborted) await once(this.signal, 'abort')
        throw new JobCancelledError()
      }
      if (outcome.kind === 'not_active') throw new Error(`import ${jobId}: attempt ${attempt} no longer owns the job`)
      const { imported, rejected } = outcome
      this.reportProgress({
        current: item.bytes,
        total: item.bytes,
        // Worded unlike the result's "Imported N rows", which the card shows next to it.
        message: `Done: ${numbers.format(imported)} imported, ${numbers.format(rejected)} rejected.`,
      })
      return result(outcome)
    } catch (err) {
      await discardAttempt(pool, me).catch(() => undefined)
      // Cancelled is final: the upload goes too. After a failure it stays for the retry (retention
      // deletes what a job that failed for good left behind).
      if (this.signal.aborted || err instanceof JobCancelledError) {
        await deleteUpload(pool, upload.id).catch(() => undefined)
      }
      throw err
    }
  }

  /** Parses the upload and stages every row of it, valid or rejected, for `me`. Returns its header. */
  private async stage(me: ImportAttempt, uploadId: string, totalBytes: number): Promise<ImportColumn[]> {
    const { pool } = this.deps
    const { rowsPerSecond, batchRows, signal } = this
    // An object, not a `let`: it is set inside the pipeline's consumer.
    const file: { columns: ImportColumn[] | null } = { columns: null }
    let read = 0
    let imported = 0
    let rejected = 0
    let bytes = 0
    let valid: StagedRow[] = []
    let rejections: Rejection[] = []
    const startedAt = Date.now()
    const progress = () =>
      `Read ${numbers.format(read)} rows: ${numbers.format(imported)} imported, ${numbers.format(rejected)} rejected...`

    const flush = async () => {
      const duplicates = await stageRows(pool, me, valid)
      for (const row of duplicates) {
        rejections.push({
          rowNumber: row.rowNumber,
          reason: `id: ${row.id} appears on an earlier row.`,
          fields: row.cells,
        })
      }
      imported += valid.length - duplicates.length
      rejected += rejections.length
      await recordRejections(pool, me, rejections)
      valid = []
      rejections = []
      this.reportProgress({ current: Math.min(bytes, totalBytes), total: totalBytes, message: progress })
      this.checkCancelled()
      if (rowsPerSecond) {
        const ahead = (read / rowsPerSecond) * 1000 - (Date.now() - startedAt)
        if (ahead > 0) await sleep(ahead, undefined, { signal }).catch(() => this.checkCancelled())
      }
    }

    const failJob = (error: string) => this.failJob({ error })
    try {
      await pipeline(
        readUpload(pool, uploadId),
        parse({
          bom: true,
          relax_column_count: true,
          skip_empty_lines: true,
          info: true,
          max_record_size: MAX_RECORD_BYTES,
        }),
        async function stageRecords(source: AsyncIterable<{ record: string[]; info: Info }>) {
          for await (const { record, info } of source) {
            // Rows are numbered as a spreadsheet shows them: the header is row 1, blank lines skipped.
            const rowNumber = info.records
            bytes = info.bytes
            if (!file.columns) {
              const header = checkImportHeader(record)
              if (!header.ok) return failJob(header.message)
              file.columns = header.columns
              continue
            }
            read++
            const parsed = parseImportRow(record, file.columns)
            if (parsed.ok) valid.push({ ...parsed.row, rowNumber, cells: record })
            else rejections.push({ rowNumber, reason: parsed.reason, fields: record })
            if (valid.length + rejections.length >= batchRows) await flush()
          }
        },
        { signal },
      )
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (typeof code === 'string' && code.startsWith('CSV_')) {
        // A record the parser cannot read (a quote never closed, text after a closing quote):
        // nothing after it can be trusted, so the whole import stops here.
        const at = (err as { records?: number }).records
        const where = typeof at === 'number' ? ` at row ${at + 1}` : ''
        failJob(`The file is not valid CSV${where}: ${(err as Error).message}. Nothing was imported.`)
      }
      throw err
    }
    if (!file.columns) return failJob('The file is empty.')
    await flush()
    return file.columns
  }
}
