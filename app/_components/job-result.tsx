/**
 * A job's result (or payload) shown to people: the queue's own renderer when its contract has one
 * and the value parses, otherwise a list of the value's fields. Never raw JSON. No hooks, so the
 * job page (a Server Component) and the job card (in the browser) both render it.
 */
import type { ReactNode } from 'react'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { QueueRegistry } from '@/lib/jobs/queue'
import { formatAbsolute } from '@/lib/jobs/time'

const numbers = new Intl.NumberFormat('en-US')
/** Fields shown by the generic renderer; the rest are counted, not listed. */
const MAX_FIELDS = 12
const MAX_TEXT = 200
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/

/** "messageId" / "message_id" -> "Message id". */
export function humanizeKey(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase()
  return words ? words[0]!.toUpperCase() + words.slice(1) : key
}

/** One value in a few words: numbers grouped, times in UTC, lists and objects counted. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'boolean') return value ? 'Yes' : 'No'
  if (typeof value === 'number') return Number.isFinite(value) ? numbers.format(value) : String(value)
  if (typeof value === 'string') {
    if (ISO_TIME.test(value)) return formatAbsolute(value) || value
    return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value
  }
  if (Array.isArray(value)) return value.length === 1 ? '1 item' : `${numbers.format(value.length)} items`
  if (typeof value === 'object') {
    const n = Object.keys(value).length
    return n === 1 ? '1 field' : `${numbers.format(n)} fields`
  }
  return String(value)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A value's fields as [label, value] pairs; the fields of a nested object are listed one level
 * deep ("Input email"), so `{ input: { email } }` shows the address, not "1 field".
 */
function fieldsOf(value: Record<string, unknown>): [string, unknown][] {
  return Object.entries(value).flatMap(([key, v]): [string, unknown][] =>
    isPlainObject(v) && Object.keys(v).length > 0
      ? Object.entries(v).map(([inner, w]): [string, unknown] => [
          `${humanizeKey(key)} ${humanizeKey(inner).toLowerCase()}`,
          w,
        ])
      : [[humanizeKey(key), v]],
  )
}

/**
 * The generic renderer: a definition list of the value's fields (or the value in words).
 * `empty` is what an object without fields says (default "Nothing to show.").
 */
export function GenericValue({ value, empty = 'Nothing to show.' }: { value: unknown; empty?: string }): ReactNode {
  if (value === null || value === undefined) return null
  if (!isPlainObject(value)) return <p className="result-value">{describeValue(value)}</p>
  const entries = fieldsOf(value)
  if (entries.length === 0) return <p className="result-value muted">{empty}</p>
  const shown = entries.slice(0, MAX_FIELDS)
  return (
    <dl className="facts result-fields">
      {shown.map(([label, v]) => (
        <div key={label} className="fact">
          <dt>{label}</dt>
          <dd>{describeValue(v)}</dd>
        </div>
      ))}
      {entries.length > shown.length && (
        <div className="fact">
          <dt>More</dt>
          <dd>{numbers.format(entries.length - shown.length)} more fields</dd>
        </div>
      )}
    </dl>
  )
}

/**
 * A completed job's result: its queue's `renderResult` of the parsed result, else the generic
 * renderer. Renders nothing for a job that is not completed or has no result.
 */
export function JobResult({
  job,
  registry,
}: {
  job: Pick<JobSnapshot, 'queue' | 'state' | 'result'>
  registry: QueueRegistry
}): ReactNode {
  if (job.state !== 'completed' || job.result === null || job.result === undefined) return null
  const parsed = registry.result(job)
  const rendered = parsed?.contract.renderResult ? parsed.contract.renderResult(parsed.value) : null
  return <div className="job-result">{rendered ?? <GenericValue value={parsed ? parsed.value : job.result} />}</div>
}
