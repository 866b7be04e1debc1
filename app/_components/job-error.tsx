import { jobErrorText, type JobError } from '@/lib/jobs/errors'

/**
 * Why a job failed, as its owner and operators read it everywhere (job card, job page, operator
 * view): the safe message, then "(reference ab12cd34)" when there is a logged reference to quote.
 * `as` is the element it renders (default `span`), styled `job-error` plus `className`.
 */
export function JobErrorMessage({
  error,
  as: Tag = 'span',
  className,
}: {
  error: JobError
  as?: 'span' | 'p' | 'dd'
  className?: string
}) {
  return <Tag className={className ? `${className} job-error` : 'job-error'}>{jobErrorText(error)}</Tag>
}
