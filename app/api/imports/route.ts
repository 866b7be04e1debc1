/**
 * POST /api/imports: starts a CSV import. The body is the file itself (raw bytes, any
 * content type), its name in the `x-file-name` header (percent-encoded UTF-8). Answers an
 * `ActionResult<{ job }>` as JSON, like a Server Action, but streams the body into PostgreSQL
 * instead of buffering it (Server Actions read the whole body into memory first).
 * - 201 `{ ok: true, value: { job } }`: stored and queued.
 * - 400 VALIDATION, `fields.file`: empty, not UTF-8 text, or without the cities header.
 * - 413 VALIDATION, `fields.file`: larger than IMPORT_MAX_BYTES (default 50 MiB); reading stops there.
 * - 429 LIMITED: IMPORT_LIMIT_PER_VIEWER (default 3) imports already queued or running.
 * - 404 NOT_FOUND without a session; 503 UNAVAILABLE; 500 INTERNAL with a logged reference.
 * proxy.ts does not run on this path: Next buffers a request body for the proxy (10 MB by default).
 */
import { IMPORTS_QUEUE, importsQueue, type ImportItem } from '@/lib/jobs/imports'
import { fail, ok, type ActionResult } from '@/lib/jobs/result'
import { isDatabaseUnavailable, webPool } from '@/lib/server/db'
import { enqueue } from '@/lib/server/enqueue-limited'
import { webEnv } from '@/lib/server/env'
import { countUnsettledForOwner } from '@/lib/server/job-store'
import { unexpectedFailure } from '@/lib/server/unexpected'
import { deleteUpload, receiveUpload } from '@/lib/server/uploads'
import { getViewer } from '@/lib/request/viewer'

export const dynamic = 'force-dynamic'

function answer(status: number, body: ActionResult<unknown>): Response {
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } })
}

function fileError(status: number, message: string): Response {
  return answer(status, fail('VALIDATION', 'The file needs attention.', { fields: { file: [message] } }))
}

/** The file's name from `x-file-name`: decoded, without a path, control characters or excess length. */
function fileNameOf(request: Request): string {
  const raw = request.headers.get('x-file-name') ?? ''
  let name: string
  try {
    name = decodeURIComponent(raw)
  } catch {
    name = raw
  }
  name = name
    .replace(/^.*[\\/]/, '')
    .replace(/[\u0000-\u001f\u007f]|\p{Cs}/gu, '')
    .trim()
  return name.slice(0, 255) || 'upload.csv'
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`
  return `${bytes} bytes`
}

export async function POST(request: Request): Promise<Response> {
  try {
    const viewer = await getViewer()
    if (!viewer) {
      await request.body?.cancel().catch(() => undefined)
      return answer(404, fail('NOT_FOUND', 'Your session has expired. Reload the page.'))
    }
    const { IMPORT_MAX_BYTES: maxBytes, IMPORT_LIMIT_PER_VIEWER: limit } = webEnv()
    const pool = webPool()
    const limited = () =>
      answer(
        429,
        fail('LIMITED', `You already have ${limit} imports queued or running. Wait for one to finish or cancel one.`),
      )
    // Checked before reading the file too, so a viewer at the limit uploads nothing.
    if ((await countUnsettledForOwner(pool, viewer.id, IMPORTS_QUEUE)) >= limit) {
      await request.body?.cancel().catch(() => undefined)
      return limited()
    }
    const declared = Number(request.headers.get('content-length') ?? NaN)
    const fileName = fileNameOf(request)
    const outcome = await receiveUpload(pool, request.body, {
      ownerId: viewer.id,
      fileName,
      maxBytes,
      declaredBytes: Number.isFinite(declared) ? declared : undefined,
    })
    if (outcome.kind === 'too_large') {
      return fileError(413, `The file is larger than ${formatBytes(maxBytes)}, the most an import accepts.`)
    }
    if (outcome.kind === 'invalid') return fileError(400, outcome.message)
    const { upload } = outcome
    const payload: ImportItem = { uploadId: upload.id, fileName: upload.fileName, bytes: upload.bytes }
    try {
      // The limit again, under the per-viewer lock: concurrent uploads never end above it.
      const enqueued = await enqueue(pool, importsQueue, { ownerId: viewer.id, payload }, { limit })
      if (enqueued.kind === 'limited') {
        await deleteUpload(pool, upload.id)
        return limited()
      }
      return answer(201, ok({ job: enqueued.job }))
    } catch (err) {
      await deleteUpload(pool, upload.id).catch(() => undefined)
      if ((err as { code?: string } | null)?.code === 'PGBOSS_QUEUE_NOT_FOUND') {
        return answer(503, fail('UNAVAILABLE', 'The workers have not started yet. Try again in a moment.'))
      }
      throw err
    }
  } catch (err) {
    // The same rule as Server Actions: a reference to the log, never a stack, SQL or path.
    if (request.signal.aborted && !isDatabaseUnavailable(err)) {
      return answer(400, fail('VALIDATION', 'The upload was interrupted.'))
    }
    const failure = unexpectedFailure('imports', err)
    return answer(failure.status, failure.answer)
  }
}
