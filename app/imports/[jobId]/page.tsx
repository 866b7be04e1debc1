import Link from 'next/link'
import { notFound } from 'next/navigation'
import { z } from 'zod'
import { IMPORTS_QUEUE, ImportResult, importsQueue } from '@/lib/jobs/imports'
import { queues } from '@/lib/jobs/registry'
import { webPool } from '@/lib/server/db'
import { listImportedRows } from '@/lib/server/imports'
import { findJobForOwner } from '@/lib/server/job-store'
import { getViewer } from '@/lib/request/viewer'

const numbers = new Intl.NumberFormat('en-US')
const RowNumber = z.coerce.number().int().min(0).max(2_147_483_647)

/** The rows one completed import published, 50 a page in file order (keyset on the row number). */
export default async function ImportRowsPage({
  params,
  searchParams,
}: {
  params: Promise<{ jobId: string }>
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { jobId } = await params
  if (!z.uuid().safeParse(jobId).success) notFound()
  const viewer = await getViewer()
  const job = viewer ? await findJobForOwner(webPool(), jobId, viewer.id) : null
  if (!job || job.queue !== IMPORTS_QUEUE) notFound()
  const query = await searchParams
  const after = RowNumber.safeParse(query.after)
  const before = RowNumber.safeParse(query.before)
  const result = job.state === 'completed' ? ImportResult.safeParse(job.result) : null
  const page = result?.success
    ? await listImportedRows(webPool(), jobId, {
        after: after.success ? after.data : undefined,
        before: !after.success && before.success ? before.data : undefined,
      })
    : null
  const first = page?.rows[0]?.rowNumber
  const last = page?.rows.at(-1)?.rowNumber
  return (
    <main className="page">
      <p>
        <Link href="/imports">← Imports</Link> · <Link href={`/jobs/${jobId}`}>Job details</Link>
      </p>
      <h1>{queues.title(job)}</h1>
      {result?.success && importsQueue.renderResult?.(result.data)}
      {!page ? (
        <p className="notice">This import has not completed, so it has no rows to show.</p>
      ) : (
        <section className="card" aria-labelledby="rows-heading">
          <h2 id="rows-heading">Imported rows</h2>
          {page.rows.length === 0 ? (
            <p className="empty">No rows on this page.</p>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <caption className="muted">
                  Rows {numbers.format(first!)} to {numbers.format(last!)} of the file · {numbers.format(page.total)}{' '}
                  imported in all
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Row</th>
                    <th scope="col">Id</th>
                    <th scope="col">Name</th>
                    <th scope="col">Country</th>
                    <th scope="col">Admin code</th>
                    <th scope="col" className="num">
                      Population
                    </th>
                    <th scope="col" className="num">
                      Latitude
                    </th>
                    <th scope="col" className="num">
                      Longitude
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((row) => (
                    <tr key={row.rowNumber}>
                      <td className="num">{row.rowNumber}</td>
                      <td className="num">{row.id}</td>
                      <td>{row.name}</td>
                      <td>{row.country}</td>
                      <td>{row.admin_code ?? ''}</td>
                      <td className="num">{numbers.format(row.population)}</td>
                      <td className="num">{row.latitude}</td>
                      <td className="num">{row.longitude}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav className="pager" aria-label="Pages">
            {page.hasPrevious && first !== undefined && (
              <Link href={`/imports/${jobId}?before=${first}`}>Previous rows</Link>
            )}
            {page.hasNext && last !== undefined && <Link href={`/imports/${jobId}?after=${last}`}>Next rows</Link>}
          </nav>
        </section>
      )}
    </main>
  )
}
