'use client'
/**
 * Live job hooks: one job (`useJob`), its timeline (`useJobTimeline`), and writing an action's
 * answer into the cache (`useRememberJob`, `useCancelJob`). Lists are in use-jobs.ts.
 *
 * The protocol, for every view whatever path led to it (navigation, reload, back/forward, a job
 * that finished before anyone listened): the view shows the newest of what it was rendered with
 * and what the cache holds, refetches on mount, and takes every event after that; the provider
 * refetches after every (re)connect. The newest `seq` always wins (`newer` in job-cache.ts).
 */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useCallback, useEffect, useMemo, useRef } from 'react'
import type { TimelineEvent } from '@/lib/jobs/history'
import type { JobSnapshot } from '@/lib/jobs/job'
import type { ActionResult } from '@/lib/jobs/result'
import { reads, unwrap, type JobView } from './fetchers'
import { mergeJob } from './job-cache'
import { useLiveJobs } from './jobs-provider'
import { jobKeys } from './query-keys'
import type { SocketScope } from './socket'

export type { JobView } from './fetchers'

/** Options of the live job hooks. */
export interface LiveJobOptions {
  /**
   * Whose socket and reads: `viewer` (default), the signed-in browser's own jobs; `operator`,
   * every job (signed-in operators only; the reads answer NOT_FOUND to anyone else).
   */
  scope?: SocketScope
}

/** What a live hook returns: the data to show, and how the last read went. */
export interface LiveResult<T> {
  /** The newest known state; `undefined` only while the first read runs without an `initial`. */
  data: T
  /** The last read's error (its message is safe to show), or null. Events keep `data` live meanwhile. */
  error: Error | null
  /** True while a read is in flight. */
  isFetching: boolean
}

/**
 * One job, live. Shows `initial` (the snapshot the server rendered with) or the cached snapshot,
 * whichever is newer, refetches on mount, then follows every change.
 *
 * @param jobId the job's id.
 * @param initial the server render's snapshot (optional; default none, `data` is then undefined
 *   until the first read answers).
 * @param options `scope` (default `viewer`).
 * @returns `{ data: job, error, isFetching }`; `error` is "No such job." for a job that is not
 *   the caller's.
 */
export function useJob(
  jobId: string,
  initial?: JobView,
  options: LiveJobOptions = {},
): LiveResult<JobView | undefined> {
  const scope = options.scope ?? 'viewer'
  const queryClient = useQueryClient()
  useLiveJobs(scope)
  const key = jobKeys.detail(scope, jobId)
  const query = useQuery({
    queryKey: key,
    queryFn: async () => {
      const { job } = await unwrap(reads[scope].job(jobId))
      // An event may have brought a newer snapshot while this read was in flight.
      return mergeJob(queryClient.getQueryData<JobView>(key), job)
    },
    initialData: initial,
    refetchOnMount: 'always',
  })
  useEffect(() => {
    // Cached from an earlier visit but older than this render: the render's snapshot is the base.
    if (initial) queryClient.setQueryData<JobView>(key, (current) => mergeJob(current, initial))
    // Only when a new render brings a new snapshot.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryClient, initial])
  const data = useMemo(() => (initial ? mergeJob(query.data, initial) : query.data), [query.data, initial])
  return { data, error: query.error, isFetching: query.isFetching }
}

/**
 * The timeline of one job, oldest event first, live: refetched on mount and after changes of
 * `job` (at most once a second, as progress changes often).
 *
 * @param job the live job (from `useJob`); its `seq` says when the timeline changed.
 * @param initial the server render's timeline (optional).
 * @param options `scope` (default `viewer`).
 */
export function useJobTimeline(
  job: JobSnapshot,
  initial?: TimelineEvent[],
  options: LiveJobOptions = {},
): LiveResult<TimelineEvent[]> {
  const scope = options.scope ?? 'viewer'
  const queryClient = useQueryClient()
  useLiveJobs(scope)
  const jobId = job.id
  const query = useQuery({
    queryKey: jobKeys.timeline(scope, jobId),
    queryFn: async () => (await unwrap(reads[scope].timeline(jobId))).events,
    initialData: initial,
    refetchOnMount: 'always',
  })
  const throttle = useRef<{ timer: ReturnType<typeof setTimeout> | null; last: number; seq: number }>({
    timer: null,
    last: 0,
    seq: job.seq,
  })
  useEffect(() => {
    const t = throttle.current
    if (job.seq <= t.seq || t.timer) return
    t.seq = job.seq
    t.timer = setTimeout(
      () => {
        t.timer = null
        t.last = Date.now()
        void queryClient.invalidateQueries({ queryKey: jobKeys.timeline(scope, jobId) })
      },
      Math.max(0, t.last + 1_000 - Date.now()),
    )
  }, [job.seq, queryClient, scope, jobId])
  useEffect(() => {
    const t = throttle.current
    return () => {
      if (t.timer) clearTimeout(t.timer)
      t.timer = null
    }
  }, [])
  return { data: query.data ?? [], error: query.error, isFetching: query.isFetching }
}

/**
 * Writes a job snapshot an action answered with (a started or cancelled job) into the cache of
 * `scope` (default `viewer`), through the same newest-`seq` rule as events.
 */
export function useRememberJob(scope: SocketScope = 'viewer'): (job: JobSnapshot) => void {
  const live = useLiveJobs(scope)
  return useCallback((job: JobSnapshot) => live.apply(scope, job), [live, scope])
}

/**
 * Cancels a job through the scope's action (`cancelJob`, or `operatorCancel` for `operator`) and
 * shows the answer at once. Resolves to the action's result: `{ ok: true, value: { job } }`, or
 * `{ ok: false, error }` with a message safe to show (NOT_FOUND, NOT_CANCELLABLE, ...).
 */
export function useCancelJob(
  scope: SocketScope = 'viewer',
): (jobId: string) => Promise<ActionResult<{ job: JobSnapshot }>> {
  const remember = useRememberJob(scope)
  return useCallback(
    async (jobId: string) => {
      const result = await reads[scope].cancel(jobId)
      if (result.ok) remember(result.value.job)
      return result
    },
    [remember, scope],
  )
}
