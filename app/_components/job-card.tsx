'use client'
/**
 * One job of any queue, as a card: its title (from the queue's contract), state, progress bar,
 * the latest message (the final state's message once settled), Cancel, Download for queues that
 * produce files, the result through the queue's renderer, a link to the job's page, and relative
 * times. Purely presentational: it renders the snapshot it is given and calls `onCancel`; where
 * the snapshot comes from (live hooks, a server render) and what Cancel does belong to the caller.
 *
 * Accessible contract the e2e tests rely on: the root carries `data-job-id` and `data-state`, the
 * bar is a `progressbar` named "<label> progress", the state shows as one word (Queued, Running,
 * Cancelling, Completed, Failed, Cancelled), and the actions are a "Cancel" button and a
 * "Download" link.
 */
import Link from 'next/link'
import { useEffect, useState } from 'react'
import { jobErrorText } from '@/lib/jobs/errors'
import { isCancellable, stateLabel, type JobSnapshot } from '@/lib/jobs/job'
import type { QueueRegistry } from '@/lib/jobs/queue'
import { queues } from '@/lib/jobs/registry'
import { formatAbsolute, formatRelative, relativeRefreshMs } from '@/lib/jobs/time'
import { JobErrorMessage } from './job-error'
import { JobResult } from './job-result'

const numbers = new Intl.NumberFormat('en-US')

const CANCELLED_BY = {
  owner: 'Cancelled by you.',
  operator: 'Cancelled by an operator.',
  system: 'Cancelled by the system.',
} as const

export interface JobCardProps {
  /** The job to show, as the server or the live hooks have it. */
  job: JobSnapshot
  /** Called when the owner presses Cancel. Without it no Cancel button is shown. */
  onCancel?: () => void
  /** True while a cancel request is in flight: the Cancel button is disabled. Default false. */
  cancelling?: boolean
  /** Why the last cancel request failed, shown as an alert under the card. Default none. */
  cancelError?: string | null
  /** Link the title to the job's page (/jobs/<id>). Default true; false on that page itself. */
  linkToPage?: boolean
  /** The element the card is: `li` inside a list of jobs (default), `div` on its own. */
  as?: 'li' | 'div'
  /** Where titles, labels, downloads and result renderers come from. Default: the app's registry. */
  registry?: QueueRegistry
}

/**
 * `Date.now()`, re-read when the relative time `shown` would change its wording, when `deadline`
 * (an ISO time, e.g. a download's expiry) passes, and every second while `fast`.
 */
function useNow(shown: string, deadline: string | null, fast: boolean): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const current = Date.now()
    const untilDeadline = deadline ? Date.parse(deadline) - current : Infinity
    const delay = fast
      ? 1_000
      : Math.min(relativeRefreshMs(shown, current), untilDeadline > 0 ? untilDeadline : Infinity, 3_600_000)
    const timer = setTimeout(() => setNow(Date.now()), Math.max(250, delay))
    return () => clearTimeout(timer)
  }, [shown, deadline, fast, now])
  return now
}

/** The line under the bar: the final state's message once settled, else the latest progress message. */
export function jobMessage(job: JobSnapshot, now: number): { text: string; tone: 'normal' | 'error' } {
  switch (job.state) {
    case 'cancelled':
      return { text: job.cancelledBy ? CANCELLED_BY[job.cancelledBy] : 'Cancelled.', tone: 'normal' }
    case 'failed':
      return {
        text: job.error ? jobErrorText(job.error) : 'The job failed.',
        tone: 'error',
      }
    case 'completed':
      return { text: job.progress?.message || 'Done.', tone: 'normal' }
    case 'queued': {
      if (!job.error) return { text: job.progress?.message || 'Waiting for a worker…', tone: 'normal' }
      const retryAt = job.retryAt ? Date.parse(job.retryAt) : null
      const when =
        retryAt === null
          ? ''
          : retryAt > now
            ? ` Retrying in ${Math.ceil((retryAt - now) / 1000)} s.`
            : ' Retrying now.'
      return {
        text: `Attempt ${job.attempt} of ${job.maxAttempts} failed: ${job.error.message}${when}`,
        tone: 'error',
      }
    }
    case 'active':
      return { text: job.progress?.message || 'Starting…', tone: 'normal' }
  }
}

/** The clock, read on mount and then every second: for a countdown that must be right on its first render. */
function useTickingNow(): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [])
  return now
}

/**
 * The message of a job waiting for its retry ("… Retrying in 8 s."). Its own component, keyed by the
 * retry time by the card, so it reads the clock when the retry is scheduled: the card may have mounted
 * minutes earlier, while the attempt ran. Server and browser renders may fall either side of a second.
 */
function RetryMessage({ job }: { job: JobSnapshot }) {
  const now = useTickingNow()
  return (
    <p className="job-message job-error" suppressHydrationWarning>
      {jobMessage(job, now).text}
    </p>
  )
}

export function JobCard({
  job,
  onCancel,
  cancelling = false,
  cancelError = null,
  linkToPage = true,
  as: Root = 'li',
  registry = queues,
}: JobCardProps) {
  const retrying = job.state === 'queued' && job.error !== null && job.retryAt !== null
  const download = registry.download(job)
  const time = job.settledAt
    ? { word: 'Finished', at: job.settledAt }
    : job.startedAt && job.state === 'active'
      ? { word: 'Started', at: job.startedAt }
      : { word: 'Created', at: job.createdAt }
  const now = useNow(time.at, download?.expiresAt ?? null, false)
  const label = stateLabel(job)
  const title = registry.title(job)
  const progress = job.progress
  const determinate = progress !== null && progress.total > 0
  const percent = determinate
    ? Math.min(100, Math.round((100 * progress.current) / progress.total))
    : job.state === 'completed'
      ? 100
      : 0
  const message = jobMessage(job, now)
  const expired = download?.expiresAt !== undefined && Date.parse(download.expiresAt) <= now

  return (
    <Root className={`job job-${job.state}`} data-job-id={job.id} data-state={job.state} aria-label={title}>
      <div className="job-head">
        <span className="job-title">{linkToPage ? <Link href={`/jobs/${job.id}`}>{title}</Link> : title}</span>
        <span className={`state state-${label.toLowerCase()}`}>{label}</span>
      </div>
      <div
        role="progressbar"
        aria-label={`${registry.label(job.queue)} progress`}
        aria-valuemin={0}
        aria-valuemax={determinate ? progress.total : undefined}
        aria-valuenow={determinate ? progress.current : undefined}
        aria-valuetext={
          determinate ? `${numbers.format(progress.current)} of ${numbers.format(progress.total)}` : label
        }
        className={`bar${determinate || job.state !== 'active' ? '' : ' bar-indeterminate'}`}
      >
        <div className="bar-fill" style={{ width: `${percent}%` }} />
      </div>
      {retrying ? (
        <RetryMessage key={job.retryAt} job={job} />
      ) : job.state === 'failed' && job.error ? (
        <JobErrorMessage as="p" className="job-message" error={job.error} />
      ) : (
        <p className={message.tone === 'error' ? 'job-message job-error' : 'job-message'}>{message.text}</p>
      )}
      <JobResult job={job} registry={registry} />
      <div className="job-foot">
        <span className="job-meta">
          {time.word}{' '}
          <time dateTime={time.at} title={formatAbsolute(time.at)} suppressHydrationWarning>
            {formatRelative(time.at, now)}
          </time>
          {job.attempt > 1 && (
            <>
              {' · '}attempt {job.attempt} of {job.maxAttempts}
            </>
          )}
        </span>
        <span className="job-actions">
          {onCancel && isCancellable(job) && (
            <button type="button" className="secondary" onClick={onCancel} disabled={cancelling}>
              Cancel
            </button>
          )}
          {download &&
            (expired ? (
              <span className="muted">Download expired</span>
            ) : (
              <a className="button" href={download.href} download={download.fileName}>
                Download{download.detail ? <span className="muted"> ({download.detail})</span> : null}
              </a>
            ))}
        </span>
      </div>
      {cancelError && (
        <p className="job-error" role="alert">
          {cancelError}
        </p>
      )}
    </Root>
  )
}
