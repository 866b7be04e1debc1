'use client'
/**
 * A live list of jobs (`useJobs`): the dashboard, Job history and the operator view. Same
 * protocol as `useJob` (use-job.ts): newest of render and cache, refetch on mount, then events.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo } from 'react'
import type { JobPage } from '@/lib/jobs/history'
import { reads, unwrap, type JobView } from './fetchers'
import { mergePages, normalizeFilter, type JobListFilter } from './job-cache'
import { useLiveJobs } from './jobs-provider'
import { jobKeys } from './query-keys'
import type { LiveJobOptions, LiveResult } from './use-job'

/** Options of `useJobs`. */
export interface LiveJobsOptions extends LiveJobOptions {
  /** The page the server rendered with (optional; default none, the list is empty until the first read). */
  initial?: JobPage<JobView>
}

/**
 * Jobs matching `filter`, newest first, live: a job that starts matching joins the first page, one
 * that stops matching (a state filter) leaves it.
 *
 * @param filter `queue`, `state` (default: all); `cursor` for an older page (new jobs never join
 *   it); `limit`, the page size (default 25, at most 100).
 * @param options `initial` (the server's page), `scope` (default `viewer`: the caller's own jobs;
 *   `operator`: everyone's, each with `ownerId`).
 * @returns `{ data: jobs, nextCursor, error, isFetching }`.
 */
export function useJobs(
  filter: JobListFilter = {},
  options: LiveJobsOptions = {},
): LiveResult<JobView[]> & { nextCursor: string | null } {
  const scope = options.scope ?? 'viewer'
  const { initial } = options
  const queryClient = useQueryClient()
  useLiveJobs(scope)
  const { queue, state, cursor, limit } = filter
  const normalized = useMemo(() => normalizeFilter({ queue, state, cursor, limit }), [queue, state, cursor, limit])
  const key = jobKeys.list(scope, normalized)
  const query = useQuery({
    queryKey: key,
    queryFn: async () => {
      const fresh = await unwrap(reads[scope].list(normalized))
      return mergePages(fresh, queryClient.getQueryData<JobPage<JobView>>(key), normalized)!
    },
    initialData: initial,
    refetchOnMount: 'always',
  })
  useEffect(() => {
    if (initial) queryClient.setQueryData<JobPage<JobView>>(key, (cached) => mergePages(initial, cached, normalized))
    // Only when a new render brings a new page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryClient, initial])
  const page = useMemo(() => mergePages(query.data, initial, normalized), [query.data, initial, normalized])
  return {
    data: page?.jobs ?? [],
    nextCursor: page?.nextCursor ?? null,
    error: query.error,
    isFetching: query.isFetching,
  }
}
