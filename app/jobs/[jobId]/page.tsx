import Link from 'next/link'
import { notFound } from 'next/navigation'
import { z } from 'zod'
import { describeJob, elapsedMs, formatDuration } from '@/lib/jobs/describe'
import { ExportResult } from '@/lib/jobs/exports'
import { stateLabel } from '@/lib/jobs/job'
import { readForPage, webPool } from '@/lib/server/db'
import { downloadExpired, downloadExpiresAt } from '@/lib/server/downloads'
import { getTimeline, progressRate, type TimelineEvent } from '@/lib/server/history'
import { findJob, findJobForOwner } from '@/lib/server/job-store'
import { getOperator } from '@/lib/server/operator'
import { getViewer } from '@/lib/server/viewer'
import { DatabaseNotice } from '@/app/_components/database-notice'
import { JobItem } from '@/app/_components/job-list'
import { LiveRefresh } from '../_components/live-refresh'

const numbers = new Intl.NumberFormat('en-US')
const ACTORS = { owner: 'you', operator: 'an operator', system: 'the system' } as const

function describeEvent(e: TimelineEvent): string {
  const error = (e.data?.error ?? null) as { message?: string; code?: string } | null
  switch (e.kind) {
    case 'queued':
      return 'Queued'
    case 'started':
      return `Attempt ${e.attempt} started`
    case 'progress': {
      const p = e.data as { current?: number; total?: number } | null
      return p?.total
        ? `Progress ${Math.round((100 * (p.current ?? 0)) / p.total)} % (${numbers.format(p.current ?? 0)} of ${numbers.format(p.total)})`
        : 'Progress'
    }
    case 'cancel_requested':
      return `Cancel requested by ${e.actor ? ACTORS[e.actor] : 'someone'}`
    case 'retry_scheduled': {
      const at = typeof e.data?.retryAt === 'string' ? ` at ${e.data.retryAt.slice(11, 19)} UTC` : ''
      return `Attempt ${e.attempt} failed (${error?.code ?? 'error'}: ${error?.message ?? ''}); retry scheduled${at}`
    }
    case 'retry_requested':
      return 'Retry requested by an operator'
    case 'completed':
      return 'Completed'
    case 'failed':
      return `Failed (${error?.code ?? 'error'}): ${error?.message ?? ''}`
    case 'cancelled':
      return `Cancelled${e.actor ? ` by ${ACTORS[e.actor]}` : ''}`
  }
}

export default async function JobPage({ params }: { params: Promise<{ jobId: string }> }) {
  const { jobId } = await params
  if (!z.uuid().safeParse(jobId).success) notFound()
  const [viewer, operator] = await Promise.all([getViewer(), getOperator()])
  const pool = webPool()
  const read = await readForPage(async () => {
    const job = operator ? await findJob(pool, jobId) : viewer ? await findJobForOwner(pool, jobId, viewer.id) : null
    return job ? { job, timeline: await getTimeline(pool, jobId) } : null
  })
  if (!read.available) {
    return (
      <main className="page">
        <p>
          <Link href="/jobs">← Job history</Link>
        </p>
        <h1>Job</h1>
        <DatabaseNotice />
      </main>
    )
  }
  if (!read.value) notFound()
  const { timeline } = read.value
  const rate = progressRate(read.value.job)
  const parsed = read.value.job.state === 'completed' ? ExportResult.safeParse(read.value.job.result) : null
  const result = parsed?.success ? parsed.data : null
  // The download route's own rule (not the worker's `expiresAt`), so the page never links to a 410.
  const expiresAt = result ? downloadExpiresAt(read.value.job) : null
  const expired = result !== null && downloadExpired(read.value.job)
  const job =
    result && expiresAt !== null
      ? { ...read.value.job, result: { ...result, expiresAt: new Date(expiresAt).toISOString() } }
      : read.value.job
  return (
    <main className="page">
      <LiveRefresh jobId={jobId} operator={operator !== null} />
      <p>
        <Link href="/jobs">← Job history</Link>
      </p>
      <h1>{describeJob(job)}</h1>
      <ul className="jobs" aria-label="This job">
        <JobItem job={job} />
      </ul>
      <section className="card" aria-label="Summary">
        <dl className="facts">
          <dt>State</dt>
          <dd>
            <span className={`state state-${stateLabel(job).toLowerCase()}`}>{stateLabel(job)}</span>
          </dd>
          <dt>Queue</dt>
          <dd>{job.queue}</dd>
          <dt>Attempt</dt>
          <dd>
            {job.attempt} of {job.maxAttempts}
          </dd>
          <dt>Created</dt>
          <dd>
            <time dateTime={job.createdAt}>
              {new Date(job.createdAt).toISOString().slice(0, 19).replace('T', ' ')} UTC
            </time>
          </dd>
          {job.startedAt && (
            <>
              <dt>Duration</dt>
              <dd>{formatDuration(elapsedMs(job.startedAt, job.settledAt))}</dd>
            </>
          )}
          {job.progress && (
            <>
              <dt>Progress</dt>
              <dd>
                {numbers.format(job.progress.current)} of {numbers.format(job.progress.total)} · {job.progress.message}
              </dd>
            </>
          )}
          {rate && (
            <>
              <dt>Rate</dt>
              <dd>
                {numbers.format(Math.round(rate.perSecond))} per second, about {formatDuration(rate.etaSeconds * 1000)}{' '}
                left
              </dd>
            </>
          )}
          {job.error && (
            <>
              <dt>Error</dt>
              <dd className="job-error">
                {job.error.message}
                {job.error.ref ? ` (reference ${job.error.ref})` : ''}
              </dd>
            </>
          )}
          {result && (
            <>
              <dt>File</dt>
              <dd>
                {expired ? (
                  <>
                    {result.fileName}: expired, no longer available for download. Start the export again for a new file.
                  </>
                ) : (
                  <a href={result.downloadUrl}>Download {result.fileName}</a>
                )}{' '}
                ({numbers.format(result.rows)} rows, {numbers.format(result.bytes)} bytes)
              </dd>
            </>
          )}
        </dl>
      </section>
      <section className="card" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <ol className="timeline">
          {timeline.map((e) => (
            <li key={e.id} data-kind={e.kind}>
              <time dateTime={e.at}>{e.at.slice(11, 23)}</time> {describeEvent(e)}
            </li>
          ))}
        </ol>
      </section>
      <section className="card" aria-labelledby="payload-heading">
        <h2 id="payload-heading">Input</h2>
        <pre>{JSON.stringify(job.payload, null, 2)}</pre>
        {job.result !== null && (
          <>
            <h2>Result</h2>
            <pre>{JSON.stringify(job.result, null, 2)}</pre>
          </>
        )}
      </section>
    </main>
  )
}
