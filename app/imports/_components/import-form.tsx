'use client'
/**
 * The import form: a file field labelled "CSV file" and "Start import". The file goes to
 * POST /api/imports as the request body (streamed, never through a Server Action, which would
 * buffer it); its answer has the Server Actions' shape, so errors show the same way.
 */
import { useState, type FormEvent } from 'react'
import { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok, type ActionError, type ActionResult } from '@/lib/jobs/result'
import { useRememberJob } from '@/lib/client/use-job'

async function upload(file: File): Promise<ActionResult<{ job: JobSnapshot }>> {
  let response: Response
  try {
    response = await fetch('/api/imports', {
      method: 'POST',
      body: file,
      headers: { 'content-type': 'text/csv', 'x-file-name': encodeURIComponent(file.name) },
    })
  } catch {
    return fail('UNAVAILABLE', 'The upload did not reach the server. Try again.')
  }
  const body = (await response.json().catch(() => null)) as
    { ok: true; value: { job: unknown } } | { ok: false; error: ActionError } | null
  if (!body) return fail('INTERNAL', `The server answered ${response.status}.`)
  if (!body.ok) return body
  const job = JobSnapshot.safeParse(body.value.job)
  return job.success ? ok({ job: job.data }) : fail('INTERNAL', 'The server answered something unexpected.')
}

export function ImportForm() {
  const remember = useRememberJob()
  const [error, setError] = useState<ActionError | null>(null)
  const [pending, setPending] = useState(false)

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = event.currentTarget
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0]
    if (!file) {
      setError(fail('VALIDATION', 'The file needs attention.', { fields: { file: ['Choose a CSV file.'] } }).error)
      return
    }
    setPending(true)
    setError(null)
    const outcome = await upload(file)
    setPending(false)
    if (outcome.ok) {
      remember(outcome.value.job)
      form.reset()
    } else {
      setError(outcome.error)
    }
  }

  const fileErrors = error?.fields?.file
  const general = error && !fileErrors ? error.message : null
  return (
    <section aria-labelledby="import-heading" className="card">
      <h2 id="import-heading">New import</h2>
      <form onSubmit={onSubmit} className="import-form" noValidate>
        <div className="field">
          <label htmlFor="csv-file">CSV file</label>
          <input
            id="csv-file"
            name="file"
            type="file"
            accept=".csv,text/csv"
            aria-invalid={fileErrors ? true : undefined}
            aria-describedby={`csv-file-hint${fileErrors ? ' csv-file-error' : ''}`}
          />
          <small id="csv-file-hint" className="hint">
            A cities export, or your own UTF-8 file with the header id, name, country, admin_code, population, latitude,
            longitude.
          </small>
          {fileErrors && (
            <small id="csv-file-error" className="field-error" role="alert">
              {fileErrors.join(' ')}
            </small>
          )}
        </div>
        <button type="submit" disabled={pending}>
          {pending ? 'Uploading…' : 'Start import'}
        </button>
        <p aria-live="polite" className="form-error">
          {general}
        </p>
      </form>
    </section>
  )
}
