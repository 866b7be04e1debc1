/**
 * GET /downloads/:jobId — the CSV of a completed export, to its owner only. Anything else (a bad id,
 * someone else's job, a job that is not completed) is 400 or 404, never a file.
 */
import { z } from 'zod'
import { ExportResult } from '@/lib/jobs/exports'
import { webPool } from '@/lib/server/db'
import { readFile } from '@/lib/server/file-store'
import { findJobForOwner } from '@/lib/server/job-store'
import { getViewer } from '@/lib/server/viewer'

const JobId = z.uuid()

function plain(status: number, message: string) {
  return new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } })
}

/** RFC 6266 Content-Disposition: an ASCII fallback plus the exact UTF-8 name in `filename*`. */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
}

export async function GET(_request: Request, ctx: { params: Promise<{ jobId: string }> }) {
  const { jobId } = await ctx.params
  if (!JobId.safeParse(jobId).success) return plain(400, 'Not a valid job id.')
  const viewer = await getViewer()
  if (!viewer) return plain(404, 'Not found.')
  const pool = webPool()
  const job = await findJobForOwner(pool, jobId, viewer.id)
  const result = job?.state === 'completed' ? ExportResult.safeParse(job.result) : null
  if (!result?.success) return plain(404, 'Not found.')
  return new Response(readFile(pool, jobId), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': attachment(result.data.fileName),
      'content-length': String(result.data.bytes),
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    },
  })
}
