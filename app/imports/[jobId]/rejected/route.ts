/**
 * GET /imports/:jobId/rejected: the rejected rows of a completed import as CSV, to its owner
 * only: `row` (the header is row 1), `reason`, then the row's cells under the file's own header
 * (cells past it are left out; the reason says how many there were). Written with the
 * export rules (BOM, CRLF, RFC 4180, formula neutralisation) and streamed through a cursor.
 * A bad id is 400; someone else's job, no session, a job that is not a completed import, or one
 * without rejected rows is 404 (existence is not leaked).
 */
import { Readable, Transform } from 'node:stream'
import { z } from 'zod'
import { IMPORTS_QUEUE, ImportResult } from '@/lib/jobs/imports'
import { attachmentDisposition } from '@/lib/server/content-disposition'
import { csvStringifier } from '@/lib/server/csv'
import { webPool } from '@/lib/server/db'
import { findPublication, streamRejections } from '@/lib/server/imports'
import { findJobForOwner } from '@/lib/server/job-store'
import { unexpectedFailure } from '@/lib/server/unexpected'
import { getViewer } from '@/lib/request/viewer'

export const dynamic = 'force-dynamic'

const JobId = z.uuid()

function plain(status: number, message: string) {
  return new Response(message, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  })
}

export async function GET(_request: Request, ctx: { params: Promise<{ jobId: string }> }) {
  const { jobId } = await ctx.params
  if (!JobId.safeParse(jobId).success) return plain(400, 'Not a valid job id.')
  try {
    const viewer = await getViewer()
    if (!viewer) return plain(404, 'Not found.')
    const pool = webPool()
    const job = await findJobForOwner(pool, jobId, viewer.id)
    const result = job?.queue === IMPORTS_QUEUE && job.state === 'completed' ? ImportResult.safeParse(job.result) : null
    if (!job || !result?.success || result.data.rejected === 0) return plain(404, 'Not found.')
    const publication = await findPublication(pool, jobId)
    if (!publication) return plain(404, 'Not found.')

    const columns = ['row', 'reason', ...publication.columns]
    const client = await pool.connect()
    let released = false
    const release = (err?: Error) => {
      if (released) return
      released = true
      // A cursor stopped early (the browser went away) leaves its connection mid-query: discard it.
      client.release(err ?? true)
    }
    const rows = streamRejections(client, jobId)
    const toRecord = new Transform({
      objectMode: true,
      transform(r: { row: number; reason: string; cells: string[] }, _encoding, callback) {
        const record: Record<string, string | number> = { row: r.row, reason: r.reason }
        publication.columns.forEach((column, i) => (record[column] = r.cells[i] ?? ''))
        callback(null, record)
      },
    })
    const csv = rows.pipe(toRecord).pipe(csvStringifier(columns, { numbersAsText: true }))
    rows.on('error', (err) => {
      csv.destroy(err)
      release(err)
    })
    rows.on('end', () => {
      released = true
      client.release()
    })
    csv.on('close', () => release())
    const fileName = `rejected-${result.data.fileName.replace(/\.csv$/i, '')}.csv`
    return new Response(Readable.toWeb(csv) as ReadableStream<Uint8Array>, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': attachmentDisposition(fileName),
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      },
    })
  } catch (err) {
    const { status, answer } = unexpectedFailure('imports', err)
    return plain(status, answer.error.message)
  }
}
