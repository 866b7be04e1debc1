/**
 * One-line, human descriptions of jobs for lists and titles. Add a case when you add a queue.
 * Wording avoids the export form's labels so those stay unique accessible names.
 */
import { DEFERRED_QUEUE, DeferredItem, sendWelcomeEmail } from './deferred'
import { EXPORTS_QUEUE, type ExportItem } from './exports'
import { IMPORTS_QUEUE, describeImport } from './imports'
import type { JobSnapshot } from './job'

const numbers = new Intl.NumberFormat('en-US')

/** "Cities · “san” · BR · pop. ≥ 5,000", "Welcome email to ada@example.com", or the queue name. */
export function describeJob(job: Pick<JobSnapshot, 'queue' | 'payload'>): string {
  if (job.queue === EXPORTS_QUEUE) {
    const item = (job.payload ?? {}) as Partial<ExportItem>
    const parts = ['Cities']
    if (item.nameContains) parts.push(`“${item.nameContains}”`)
    if (item.country) parts.push(item.country)
    if (item.minPopulation !== undefined) parts.push(`pop. ≥ ${numbers.format(item.minPopulation)}`)
    if (parts.length === 1) parts.push('all of them')
    return parts.join(' · ')
  }
  if (job.queue === IMPORTS_QUEUE) return describeImport(job.payload)
  if (job.queue === DEFERRED_QUEUE) {
    const item = DeferredItem.safeParse(job.payload)
    if (item.success && item.data.action === sendWelcomeEmail.name) {
      const input = sendWelcomeEmail.schema.safeParse(item.data.input)
      return input.success ? `Welcome email to ${input.data.email}` : 'Welcome email'
    }
    return item.success ? `Deferred action ${item.data.action}` : 'Deferred action'
  }
  return `Job on ${job.queue}`
}

/** Human duration: "850 ms", "12 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** Milliseconds a job ran: from start to settle, or to now while it runs. */
export function elapsedMs(startedAt: string, settledAt: string | null, now: number = Date.now()): number {
  return (settledAt ? Date.parse(settledAt) : now) - Date.parse(startedAt)
}
