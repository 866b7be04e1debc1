/**
 * GET /downloads/:jobId — the CSV of a completed export, to its owner only, for
 * `EXPORT_FILE_TTL_HOURS` (default 24) after it completed. A bad id is 400; someone else's job, no
 * session or a job that is not completed is 404 (existence is not leaked); the owner's expired file
 * is 410 Gone and is deleted then. Never a file for anything else.
 */
import { z } from 'zod'
import { ExportResult } from '@/lib/jobs/exports'
import { attachmentDisposition } from '@/lib/server/content-disposition'
import { webPool } from '@/lib/server/db'
import { downloadExpired } from '@/lib/server/downloads'
import { deleteFile, readFile } from '@/lib/server/file-store'
import { findJobForOwner } from '@/lib/server/job-store'
import { unexpectedFailure } from '@/lib/server/unexpected'
import { getViewer } from '@/lib/request/viewer'

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
    const result = job?.state === 'completed' ? ExportResult.safeParse(job.result) : null
    if (!job || !result?.success) return plain(404, 'Not found.')
    if (downloadExpired(job)) {
      // The job stays completed (its history is kept); only the bytes go.
      await deleteFile(pool, jobId)
      return plain(410, 'This download has expired. Start the export again.')
    }
    return new Response(readFile(pool, jobId), {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': attachmentDisposition(result.data.fileName),
        'content-length': String(result.data.bytes),
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      },
    })
  } catch (err) {
    // The same rule as Server Actions: a reference to the log, never a stack, SQL or path.
    const { status, answer } = unexpectedFailure('downloads', err)
    return plain(status, answer.error.message)
  }
}
