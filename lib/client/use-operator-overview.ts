'use client'
/** The operator view's queue counts and stuck jobs, refetched as jobs change (operators only). */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useRef } from 'react'
import { operatorOverview, type OperatorOverview } from '@/lib/actions/operator'
import { unwrap } from './fetchers'
import { useJobChanges } from './jobs-provider'
import { jobKeys } from './query-keys'
import type { LiveResult } from './use-job'

/** Shortest time between two refetches caused by job changes, in ms. */
const REFETCH_EVERY_MS = 1_000

/**
 * Counts per queue and stuck jobs: `initial` from the server render, refetched on mount, after
 * every (re)connect of the operator socket, and after job changes (at most once a second).
 */
export function useOperatorOverview(initial?: OperatorOverview): LiveResult<OperatorOverview | undefined> {
  const queryClient = useQueryClient()
  const query = useQuery({
    queryKey: jobKeys.overview(),
    queryFn: () => unwrap(operatorOverview({})),
    initialData: initial,
    refetchOnMount: 'always',
  })
  const throttle = useRef<{ timer: ReturnType<typeof setTimeout> | null; last: number }>({ timer: null, last: 0 })
  useJobChanges(() => {
    const t = throttle.current
    if (t.timer) return
    t.timer = setTimeout(
      () => {
        t.timer = null
        t.last = Date.now()
        void queryClient.invalidateQueries({ queryKey: jobKeys.overview() })
      },
      Math.max(0, t.last + REFETCH_EVERY_MS - Date.now()),
    )
  }, 'operator')
  useEffect(() => {
    const t = throttle.current
    return () => {
      if (t.timer) clearTimeout(t.timer)
      t.timer = null
    }
  }, [])
  return { data: query.data, error: query.error, isFetching: query.isFetching }
}
