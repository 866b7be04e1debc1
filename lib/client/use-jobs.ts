'use client'
/**
 * React Query hooks for jobs, kept live by `queue.job.changed` events (see useJobEvents).
 */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { listJobs } from '@/app/actions'
import { JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import { JobSnapshot } from '@/lib/jobs/job'
import { mergeIntoList, mergeLists, newer } from './job-cache'
import { jobKeys } from './query-keys'
import { getSocket } from './socket'

/** The viewer's jobs, newest first. `initialJobs` comes from the server render. */
export function useJobs(initialJobs: JobSnapshot[]) {
  const queryClient = useQueryClient()
  return useQuery({
    queryKey: jobKeys.list(),
    queryFn: async () => {
      const result = await listJobs({})
      if (!result.ok) throw new Error(result.error.message)
      return mergeLists(queryClient.getQueryData<JobSnapshot[]>(jobKeys.list()), result.value.jobs)
    },
    initialData: initialJobs,
    // Events keep it fresh; refetch only on reconnect (see useJobEvents).
    staleTime: Infinity,
  })
}

/** Adds or updates one job in the cache (newest `seq` wins). */
export function useRememberJob() {
  const queryClient = useQueryClient()
  return (job: JobSnapshot) => {
    queryClient.setQueryData<JobSnapshot[]>(jobKeys.list(), (list) => mergeIntoList(list, job))
    queryClient.setQueryData<JobSnapshot>(jobKeys.detail(job.id), (current) => newer(current, job))
  }
}

export type RealtimeStatus = 'connecting' | 'live' | 'offline'

/**
 * Subscribes the tab to its viewer's job events and patches the cache with them. On every
 * (re)connect it refetches, since events sent while disconnected are gone. Returns the status.
 */
export function useJobEvents(): RealtimeStatus {
  const queryClient = useQueryClient()
  const remember = useRememberJob()
  const [status, setStatus] = useState<RealtimeStatus>('connecting')
  useEffect(() => {
    let cancelled = false
    let detach = () => {}
    getSocket().then(
      (socket) => {
        if (cancelled) return
        const onChanged = (raw: unknown) => {
          const job = JobSnapshot.safeParse(raw)
          if (job.success) remember(job.data)
        }
        const onConnect = () => {
          setStatus('live')
          void queryClient.invalidateQueries({ queryKey: jobKeys.all })
        }
        const onDisconnect = () => setStatus('offline')
        socket.on(JOB_CHANGED_EVENT, onChanged)
        socket.on('connect', onConnect)
        socket.on('disconnect', onDisconnect)
        socket.on('connect_error', onDisconnect)
        if (socket.connected) setStatus('live')
        detach = () => {
          socket.off(JOB_CHANGED_EVENT, onChanged)
          socket.off('connect', onConnect)
          socket.off('disconnect', onDisconnect)
          socket.off('connect_error', onDisconnect)
        }
      },
      () => setStatus('offline'),
    )
    return () => {
      cancelled = true
      detach()
    }
    // remember is stable in behaviour; re-subscribing on each render would drop events.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryClient])
  return status
}
