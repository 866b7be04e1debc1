'use client'
/**
 * The result of a completed import inside its job card: "Imported N rows", a link to browse them
 * and, when some were rejected, "Rejected M rows" with their download. One component, so a queue
 * registry can list it as the `imports` queue's result renderer.
 */
import Link from 'next/link'
import { ImportResult } from '@/lib/jobs/imports'
import type { JobSnapshot } from '@/lib/jobs/job'

const numbers = new Intl.NumberFormat('en-US')

function rows(n: number): string {
  return `${numbers.format(n)} ${n === 1 ? 'row' : 'rows'}`
}

/** Renders nothing unless `job` is a completed import with a result of the expected shape. */
export function ImportResultView({ job }: { job: Pick<JobSnapshot, 'state' | 'result'> }) {
  if (job.state !== 'completed') return null
  const parsed = ImportResult.safeParse(job.result)
  if (!parsed.success) return null
  const result = parsed.data
  return (
    <div className="import-result">
      <p>
        <span>Imported {rows(result.imported)}</span>
        {result.imported > 0 && (
          <>
            {' · '}
            <Link href={result.rowsUrl}>View imported rows</Link>
          </>
        )}
      </p>
      {result.rejected > 0 && result.rejectedUrl && (
        <p>
          <span className="job-error-text">Rejected {rows(result.rejected)}</span>
          {' · '}
          <a href={result.rejectedUrl} download>
            Download rejected rows
          </a>
        </p>
      )}
    </div>
  )
}
