'use client'
import { useActionState } from 'react'
import { startExport } from '@/lib/actions/jobs'
import type { ActionError } from '@/lib/jobs/result'
import { useRememberJob } from '@/lib/client/use-job'

type FormState = { error: ActionError | null; values: Record<string, string> }

const FIELDS = [
  { name: 'nameContains', label: 'Name contains', placeholder: 'e.g. san', hint: 'Part of the city name, any case.' },
  { name: 'country', label: 'Country', placeholder: 'e.g. BR', hint: 'Two-letter code (ISO 3166-1), empty for all.' },
  {
    name: 'minPopulation',
    label: 'Minimum population',
    placeholder: 'e.g. 5000',
    hint: 'Inclusive, empty for no minimum.',
    inputMode: 'numeric' as const,
  },
]

/** The export form. Field errors from the action show next to their fields. */
export function ExportForm() {
  const remember = useRememberJob()
  const [state, formAction, pending] = useActionState<FormState, FormData>(
    async (_previous, formData) => {
      const values = Object.fromEntries(FIELDS.map((f) => [f.name, String(formData.get(f.name) ?? '')]))
      const result = await startExport(values)
      if (result.ok) {
        remember(result.value.job)
        return { error: null, values: {} }
      }
      return { error: result.error, values }
    },
    { error: null, values: {} },
  )

  const fields = state.error?.fields ?? {}
  const general = state.error && !state.error.fields ? state.error.message : null
  return (
    <section aria-labelledby="export-heading" className="card">
      <h2 id="export-heading">New export</h2>
      <form action={formAction} className="export-form" noValidate>
        {FIELDS.map((f) => {
          const errors = fields[f.name]
          return (
            <div key={f.name} className="field">
              <label htmlFor={f.name}>{f.label}</label>
              <input
                id={f.name}
                name={f.name}
                placeholder={f.placeholder}
                inputMode={f.inputMode}
                defaultValue={state.values[f.name] ?? ''}
                key={`${f.name}-${state.values[f.name] ?? ''}`}
                aria-invalid={errors ? true : undefined}
                aria-describedby={`${f.name}-hint${errors ? ` ${f.name}-error` : ''}`}
                autoComplete="off"
              />
              <small id={`${f.name}-hint`} className="hint">
                {f.hint}
              </small>
              {errors && (
                <small id={`${f.name}-error`} className="field-error">
                  {errors.join(' ')}
                </small>
              )}
            </div>
          )
        })}
        <button type="submit" disabled={pending}>
          {pending ? 'Starting…' : 'Start export'}
        </button>
        <p aria-live="polite" className="form-error">
          {general}
        </p>
      </form>
    </section>
  )
}
