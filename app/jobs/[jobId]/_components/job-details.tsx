'use client'
import Link from 'next/link'
import { elapsedMs, formatDuration } from '@/lib/jobs/describe'
import { progressRate, type TimelineEvent } from '@/lib/jobs/history'
import { isSettled, stateLabel } from '@/lib/jobs/job'
import { queues } from '@/lib/jobs/registry'
import { formatAbsolute } from '@/lib/jobs/time'
import type { SocketScope } from '@/lib/client/socket'
import { useClock } from '@/lib/client/use-clock'
import { useCancelJob, useJob, useJobTimeline, type JobView } from '@/lib/client/use-job'
import { JobItem } from '@/app/_components/job-list'
import { JobErrorMessage } from '@/app/_components/job-error'
import { GenericValue } from '@/app/_components/job-result'

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

/**
 * One job's page, live: its card, summary, timeline, input and result all follow the job through
 * `useJob` and `useJobTimeline`, starting from what the server rendered (`initial`, `timeline`).
 * `scope` `operator` reads and cancels as an operator (any job).
 */
export function JobDetails({
  initial,
  timeline: initialTimeline,
  scope = 'viewer',
}: {
  initial: JobView
  timeline: TimelineEvent[]
  scope?: SocketScope
}) {
  const { data } = useJob(initial.id, initial, { scope })
  const job = data ?? initial
  const { data: timeline } = useJobTimeline(job, initialTimeline, { scope })
  const cancel = useCancelJob(scope)
  const now = useClock()
  const rate = now === null ? null : progressRate(job, now)
  const download = queues.download(job)
  return (
    <main className="page">
      <p>
        <Link href="/jobs">← Job history</Link>
      </p>
      <h1>{queues.title(job)}</h1>
      <ul className="jobs" aria-label="This job">
        <JobItem job={job} onCancel={cancel} linkToPage={false} />
      </ul>
      <section className="card" aria-label="Summary">
        <dl className="facts">
          <dt>State</dt>
          <dd>
            <span className={`state state-${stateLabel(job).toLowerCase()}`}>{stateLabel(job)}</span>
          </dd>
          <dt>Queue</dt>
          <dd>
            {queues.label(job.queue)} <span className="muted">({job.queue})</span>
          </dd>
          <dt>Attempt</dt>
          <dd>
            {job.attempt} of {job.maxAttempts}
          </dd>
          <dt>Created</dt>
          <dd>
            <time dateTime={job.createdAt}>{formatAbsolute(job.createdAt)}</time>
          </dd>
          {job.startedAt && (job.settledAt || now !== null) && (
            <>
              <dt>Duration</dt>
              <dd>{formatDuration(elapsedMs(job.startedAt, job.settledAt, now ?? undefined))}</dd>
            </>
          )}
          {job.progress && (
            <>
              <dt>Progress</dt>
              <dd>
                {numbers.format(job.progress.current)} of {numbers.format(job.progress.total)}
                {/* A settled job's last progress message ("Writing ...") is no longer true: its state says what happened. */}
                {!isSettled(job.state) && job.progress.message && ` · ${job.progress.message}`}
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
              <JobErrorMessage as="dd" error={job.error} />
            </>
          )}
          {download && (
            <>
              <dt>File</dt>
              <dd>
                {download.expiresAt && now !== null && Date.parse(download.expiresAt) <= now ? (
                  <>
                    {download.fileName}: expired, no longer available for download. Start the export again for a new
                    file.
                  </>
                ) : (
                  <>
                    <a href={download.href}>Download {download.fileName}</a>
                    {download.detail ? ` (${download.detail})` : ''}
                  </>
                )}
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
        <GenericValue value={job.payload} empty="None: the queue's defaults." />
      </section>
    </main>
  )
}
