'use client'
import { useActionState } from 'react'
import { sendWelcome } from '@/lib/actions/emails'
import { useRememberJob } from '@/lib/client/use-job'
import type { ActionError } from '@/lib/jobs/result'

type State = { error: ActionError | null; sent: 'new' | 'again' | null }

/** Sends a welcome email through a deferred action; the page lists what was sent. */
export function WelcomeForm() {
  const remember = useRememberJob()
  const [state, action, pending] = useActionState<State, FormData>(
    async (_prev, data) => {
      const result = await sendWelcome({ email: String(data.get('email') ?? '') })
      if (!result.ok) return { error: result.error, sent: null }
      remember(result.value.job)
      // The idempotency key returns the first job for an address already welcomed.
      return {
        error: null,
        sent: result.value.job.state === 'queued' && result.value.job.attempt === 0 ? 'new' : 'again',
      }
    },
    { error: null, sent: null },
  )
  const fieldError = state.error?.fields?.email?.join(' ')
  return (
    <form action={action} className="inline-form" noValidate>
      <div className="field">
        <label htmlFor="email">Email address</label>
        <input
          id="email"
          name="email"
          type="email"
          placeholder="ada@example.com"
          aria-invalid={fieldError ? true : undefined}
          aria-describedby={fieldError ? 'email-error' : undefined}
        />
        {fieldError && (
          <small id="email-error" className="field-error">
            {fieldError}
          </small>
        )}
      </div>
      <button type="submit" disabled={pending}>
        {pending ? 'Queuing…' : 'Send welcome email'}
      </button>
      <p aria-live="polite" className="form-note">
        {state.sent === 'new'
          ? 'Queued. The worker sends it in the background.'
          : state.sent === 'again'
            ? 'This address was already welcomed: nothing new was sent.'
            : state.error && !state.error.fields
              ? state.error.message
              : ''}
      </p>
    </form>
  )
}
