/**
 * How a deferred action's body is written: `deferredHandler(contract, body)`. The body receives
 * the parsed input and the job's context; what it returns is stored as the job's result.
 */
import type pg from 'pg'
import type { DeferredAction, DeferredActions } from '@/lib/jobs/deferred'

export interface DeferredContext {
  pool: pg.Pool
  jobId: string
  ownerId: string
  attempt: number
  signal: AbortSignal
}

export interface DeferredHandler<Input = unknown> {
  action: DeferredAction<Input>
  run(input: Input, context: DeferredContext): Promise<unknown>
}

export function deferredHandler<Input>(
  action: DeferredAction<Input>,
  run: (input: Input, context: DeferredContext) => Promise<unknown>,
): DeferredHandler<Input> {
  return { action, run }
}

/** One body per listed deferred action, keyed by its name: declare the map with `satisfies`. */
export type DeferredHandlers<A extends DeferredActions> = {
  [K in keyof A]: A[K] extends DeferredAction<infer Input> ? DeferredHandler<Input> : never
}
