import { JobState, stateLabel } from '@/lib/jobs/job'
import { queues } from '@/lib/jobs/registry'

/**
 * The history filter form (a plain GET form, so it works before hydration): queue, from the registry,
 * and state. `current` is the filter in force, shown as the selected values.
 */
export function JobFilters({ current }: { current: { queue?: string; state?: string } }) {
  return (
    <form className="filters" method="get" aria-label="Filter jobs">
      <label>
        Queue{' '}
        <select name="queue" defaultValue={current.queue ?? ''}>
          <option value="">All queues</option>
          {queues.names.map((q) => (
            <option key={q} value={q}>
              {queues.label(q)}
            </option>
          ))}
        </select>
      </label>
      <label>
        State{' '}
        <select name="state" defaultValue={current.state ?? ''}>
          <option value="">All states</option>
          {JobState.options.map((s) => (
            <option key={s} value={s}>
              {/* The words the job badges use ("Running", not "active"). */}
              {stateLabel({ state: s, cancelRequested: false })}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="secondary">
        Filter
      </button>
    </form>
  )
}
