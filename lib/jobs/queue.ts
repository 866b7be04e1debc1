/**
 * Queue contracts: what a queue is, in one place both tiers and the browser read. A contract
 * names the queue, parses its payload and result, titles its jobs for people, carries the options
 * the worker gives pg-boss, and says how a finished job's result is shown. The worker's handler
 * (`QueueService`, workers/queue-service.ts) takes its name, schema and options from it.
 *
 * Plain data and pure functions only: the worker (plain Node), tests and client components all
 * import this module, so it must never import `lib/server`, `pg` or anything with side effects.
 */
import type { ReactNode } from 'react'
import { z } from 'zod'
import type { JobSnapshot } from './job'

/**
 * Per-queue options, passed to pg-boss `createQueue` by the worker (the worker owns them:
 * `createQueue` is first-writer-wins, and each worker boot makes its own win). Units are seconds,
 * as in pg-boss.
 */
export interface QueueOptions {
  /** Retries after a thrown exception (pg-boss `retryLimit`). `failJob` never retries. Default 2. */
  retryLimit?: number
  /** Seconds before the first retry (pg-boss `retryDelay`). Default 5. */
  retryDelay?: number
  /** Double the delay on each retry, with jitter (pg-boss `retryBackoff`). Default true. */
  retryBackoff?: boolean
  /** Seconds an attempt may run before pg-boss expires it (pg-boss `expireInSeconds`). Default 900. */
  expireInSeconds?: number
  /**
   * Seconds without a heartbeat after which pg-boss treats the attempt as lost and retries it
   * (pg-boss `heartbeatSeconds`, at least 10). The runner sends one every half interval. Default 20.
   */
  heartbeatSeconds?: number
  /**
   * Seconds a handler may keep running after its owner cancelled (its signal is aborted at once).
   * Past this the job is settled as cancelled anyway and whatever the handler returns is discarded.
   * Default 30.
   */
  cancelGraceSeconds?: number
}

/** Defaults applied to every queue's `options`. */
export const DEFAULT_QUEUE_OPTIONS: Required<QueueOptions> = {
  retryLimit: 2,
  retryDelay: 5,
  retryBackoff: true,
  expireInSeconds: 900,
  heartbeatSeconds: 20,
  cancelGraceSeconds: 30,
}

/** Default of `limitPerOwner`: jobs of one queue one owner may have queued or running at once. */
export const DEFAULT_LIMIT_PER_OWNER = 5

/** A file a completed job produced, offered to its owner as a Download link. */
export interface JobDownload {
  /** Where the browser fetches it (served to the job's owner only, e.g. `/downloads/<job id>`). */
  href: string
  /** The name the browser saves it under. */
  fileName: string
  /** ISO time after which the link stops working (shown as "Download expired"); none: it does not expire. */
  expiresAt?: string
  /** A few words after the link, e.g. "12,000 rows". */
  detail?: string
}

/** What `defineQueue` takes. Only `name` and `payload` are required. */
export interface QueueDefinition<P extends z.ZodType, R extends z.ZodType> {
  /**
   * The pg-boss queue name and `app.jobs.queue`: a short lowercase noun (`exports`), 1-50 of
   * `a-z 0-9 _ -`, starting with a letter. Stored with every job: never rename a queue with jobs queued.
   */
  name: string
  /**
   * Parses a job's payload: in the action before enqueueing, again in the worker before the handler
   * runs (queued jobs outlive deploys), and for titles. Its output is what `handleItem` receives.
   */
  payload: P
  /** Parses the handler's return value wherever a result is shown. Default `z.unknown()` (any JSON). */
  result?: R
  /** The job's title for people, from its parsed payload ("Cities · BR"). Default: `label`. */
  title?: (payload: z.output<P>) => string
  /**
   * One job of this queue in a few words, capitalised ("Export"): the progress bar's name
   * ("Export progress"), the history filter, the fallback title. Default: the name.
   */
  label?: string
  /** pg-boss options; see `QueueOptions` for each default. Default `{}`. */
  options?: QueueOptions
  /**
   * Most jobs of this queue one owner may have queued or running at once; `enqueue`
   * (lib/server/enqueue-limited.ts) answers `limited` beyond it. Default 5 (`DEFAULT_LIMIT_PER_OWNER`).
   */
  limitPerOwner?: number
  /**
   * For queues that produce a file: the Download link of a completed job's parsed result, or null.
   * Queues without it never show a Download link. Default: none.
   */
  download?: (result: z.output<R>) => JobDownload | null
  /**
   * Shows a completed job's parsed result to its owner (the job card and the job page). Keep it a
   * plain function of the result: no hooks, no server-only imports (it renders on the server and in
   * the browser; return a client component's element if it needs state). Default: a generic list of
   * the result's fields, never raw JSON.
   */
  renderResult?: (result: z.output<R>) => ReactNode
}

/**
 * A queue's contract, made by `defineQueue`. `P` and `R` are the zod schemas of its payload and
 * result; `z.output<P>` is what the handler receives, `z.input<P>` what `enqueue` accepts.
 */
export interface QueueContract<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly name: string
  readonly label: string
  readonly payload: P
  readonly result: R
  readonly options: QueueOptions
  readonly limitPerOwner: number
  title(payload: z.output<P>): string
  download(result: z.output<R>): JobDownload | null
  /** null: the generic renderer shows the result. */
  readonly renderResult: ((result: z.output<R>) => ReactNode) | null
}

/**
 * Any queue's contract. `any` (not `unknown`) because contracts are read both ways: their payload
 * is produced (parsed) and consumed (by `title`, `handleItem`), so no single `unknown` fits both.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyQueueContract = QueueContract<any, any>

/** What a contract's handler receives: the payload after its schema parsed it. */
export type PayloadOf<C extends AnyQueueContract> = z.output<C['payload']>
/** What `enqueue` accepts for a contract's payload, before parsing (form fields may be strings). */
export type PayloadInput<C extends AnyQueueContract> = z.input<C['payload']>
/** What a contract's handler returns and its result schema parses. */
export type ResultOf<C extends AnyQueueContract> = z.output<C['result']>

const QUEUE_NAME = /^[a-z][a-z0-9_-]{0,49}$/

/**
 * Declares a queue. Returns a plain, frozen object: safe to import from the worker, tests and
 * client components. Throws an `Error` when `name` is not a valid queue name or `limitPerOwner` is
 * not a positive whole number.
 *
 * ```ts
 * export const exportsQueue = defineQueue({ name: 'exports', payload: ExportItem, result: ExportResult })
 * ```
 */
export function defineQueue<P extends z.ZodType, R extends z.ZodType = z.ZodUnknown>(
  definition: QueueDefinition<P, R>,
): QueueContract<P, R> {
  const { name } = definition
  if (!QUEUE_NAME.test(name)) throw new Error(`queue name must be 1-50 of a-z 0-9 _ -, starting with a letter: ${name}`)
  const limitPerOwner = definition.limitPerOwner ?? DEFAULT_LIMIT_PER_OWNER
  if (!Number.isInteger(limitPerOwner) || limitPerOwner < 1)
    throw new Error(`queue ${name}: limitPerOwner must be a whole number of 1 or more`)
  const label = definition.label ?? name
  const result = (definition.result ?? z.unknown()) as R
  return Object.freeze({
    name,
    label,
    payload: definition.payload,
    result,
    options: Object.freeze({ ...definition.options }),
    limitPerOwner,
    title: definition.title ?? (() => label),
    download: definition.download ?? (() => null),
    renderResult: definition.renderResult ?? null,
  })
}

/** A queue registry: every contract by name. Built once by `defineRegistry` (lib/jobs/registry.ts). */
export interface QueueRegistry<Q extends Record<string, AnyQueueContract> = Record<string, AnyQueueContract>> {
  /** The contracts by queue name, in registration order. */
  readonly queues: Q
  /** Every queue name, in registration order (history filters). */
  readonly names: readonly string[]
  /** The contract of `queue`, or undefined for a queue no longer registered (old jobs in history). */
  get(queue: string): AnyQueueContract | undefined
  /** A queue's label ("Export"), or its name when it is not registered. */
  label(queue: string): string
  /** A job's title for people: the contract's `title` of the parsed payload; the label if it no longer parses. */
  title(job: Pick<JobSnapshot, 'queue' | 'payload'>): string
  /**
   * A completed job's result parsed by its contract, with the contract, or null (not completed,
   * unregistered queue, or a result the schema rejects: show it with the generic renderer).
   */
  result(job: Pick<JobSnapshot, 'queue' | 'state' | 'result'>): ParsedResult | null
  /** The Download link of a completed job of a queue that produces files, else null. */
  download(job: Pick<JobSnapshot, 'queue' | 'state' | 'result'>): JobDownload | null
}

/** A completed job's result, parsed by its queue's contract. */
export interface ParsedResult {
  contract: AnyQueueContract
  value: unknown
}

/**
 * Builds a registry from contracts keyed by their names. Throws an `Error` when a key differs from
 * its contract's name, so the key the worker's handler map is checked against (workers/providers.ts)
 * is always the queue's real name. Compose one in a test with `defineRegistry({ ...queues.queues, mine })`.
 */
export function defineRegistry<const Q extends Record<string, AnyQueueContract>>(queues: Q): QueueRegistry<Q> {
  for (const [key, contract] of Object.entries(queues))
    if (key !== contract.name) throw new Error(`registry key ${key} must be its queue's name (${contract.name})`)
  const byName = new Map<string, AnyQueueContract>(Object.entries(queues))
  const result = (job: Pick<JobSnapshot, 'queue' | 'state' | 'result'>): ParsedResult | null => {
    const contract = byName.get(job.queue)
    if (!contract || job.state !== 'completed') return null
    const parsed = contract.result.safeParse(job.result)
    return parsed.success ? { contract, value: parsed.data } : null
  }
  return Object.freeze({
    queues,
    names: Object.keys(queues),
    get: (queue: string) => byName.get(queue),
    label: (queue: string) => byName.get(queue)?.label ?? queue,
    title(job: Pick<JobSnapshot, 'queue' | 'payload'>) {
      const contract = byName.get(job.queue)
      if (!contract) return `Job on ${job.queue}`
      const payload = contract.payload.safeParse(job.payload)
      return payload.success ? contract.title(payload.data) : contract.label
    },
    result,
    download(job: Pick<JobSnapshot, 'queue' | 'state' | 'result'>) {
      const parsed = result(job)
      return parsed ? parsed.contract.download(parsed.value) : null
    },
  })
}
