'use client'
/**
 * The one live path from the worker's socket.io server into the React Query cache. Mount
 * `<JobsProvider>` once, inside the QueryClientProvider of the root layout (app/providers.tsx);
 * the hooks (`useJob`, `useJobs`, ...) throw without it. It owns the tab's sockets (one per scope,
 * opened when the first view of that scope mounts, kept for the life of the tab) and applies every
 * `queue.job.changed` to the cached job, lists and listeners, newest `seq` first.
 *
 * Resync: after every (re)connect, and when the page comes back from the back/forward cache, all
 * queries of the scope refetch, since events sent while nobody listened are gone. Each view also
 * refetches when it mounts (see use-job.ts), so a view never trusts a cache it did not watch.
 */
import { useQueryClient, type QueryClient } from '@tanstack/react-query'
import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react'
import type { Socket } from 'socket.io-client'
import { JOB_CHANGED_EVENT } from '@/lib/jobs/events'
import type { JobPage } from '@/lib/jobs/history'
import { JobSnapshot } from '@/lib/jobs/job'
import { applyToPage, mergeJob, type JobListFilter } from './job-cache'
import { jobKeys } from './query-keys'
import { getSocket, type SocketScope } from './socket'

/** `connecting` until the first connect, `live` while connected, `offline` while reconnecting. */
export type RealtimeStatus = 'connecting' | 'live' | 'offline'

/** Called with every job change a scope's socket delivers (and every action answer remembered). */
export type JobChangeListener = (job: JobSnapshot, scope: SocketScope) => void

/** How long to wait before asking for a socket again after the token request failed, in ms. */
const RETRY_SOCKET_MS = 2_000

/** The provider's state: which scopes are wanted and attached, their status, the last seq per job. */
export class LiveJobs {
  private readonly wanted = new Set<SocketScope>()
  private readonly attached = new Map<SocketScope, () => void>()
  private readonly statuses = new Map<SocketScope, RealtimeStatus>()
  private readonly lastSeq = new Map<string, number>()
  private readonly statusListeners = new Set<() => void>()
  private readonly jobListeners = new Set<JobChangeListener>()
  private started = false

  constructor(private readonly queryClient: QueryClient) {}

  /** Attaches to every wanted scope's socket. The provider calls it on mount. */
  start(): void {
    if (this.started) return
    this.started = true
    for (const scope of this.wanted) this.attach(scope)
    window.addEventListener('pageshow', this.onPageShow)
  }

  /** Detaches every listener (the sockets stay open for the tab). The provider calls it on unmount. */
  stop(): void {
    this.started = false
    for (const detach of this.attached.values()) detach()
    this.attached.clear()
    window.removeEventListener('pageshow', this.onPageShow)
  }

  /** Marks `scope` as wanted by a mounted view: its socket opens (once per tab) and feeds the cache. */
  watch(scope: SocketScope): void {
    this.wanted.add(scope)
    if (this.started) this.attach(scope)
  }

  status(scope: SocketScope): RealtimeStatus {
    return this.statuses.get(scope) ?? 'connecting'
  }

  subscribeStatus = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  onJobChange(listener: JobChangeListener): () => void {
    this.jobListeners.add(listener)
    return () => this.jobListeners.delete(listener)
  }

  /**
   * Applies one snapshot of a job (an event, or an action's answer) to the scope's cache: the
   * job's detail if cached, and every cached list of the scope (see `applyToPage`). A snapshot not
   * newer than one already applied for that job is dropped, so a late event cannot bring back a
   * job that has left a filtered list.
   */
  apply(scope: SocketScope, job: JobSnapshot): void {
    const key = `${scope}:${job.id}`
    const last = this.lastSeq.get(key)
    if (last !== undefined && last >= job.seq) return
    this.lastSeq.set(key, job.seq)
    const client = this.queryClient
    client.setQueryData<JobSnapshot>(jobKeys.detail(scope, job.id), (current) =>
      current === undefined ? undefined : mergeJob(current, job),
    )
    for (const query of client.getQueryCache().findAll({ queryKey: jobKeys.lists(scope) })) {
      const filter = (query.queryKey[3] ?? {}) as JobListFilter
      client.setQueryData<JobPage>(query.queryKey, (page) => (page ? applyToPage(page, job, filter) : page))
    }
    for (const listener of this.jobListeners) listener(job, scope)
  }

  /** Refetches everything about jobs in `scope`: mounted views now, the others when they mount. */
  private resync(scope: SocketScope): void {
    void this.queryClient.invalidateQueries({ queryKey: jobKeys.scope(scope) })
  }

  private setStatus(scope: SocketScope, status: RealtimeStatus): void {
    if (this.statuses.get(scope) === status) return
    this.statuses.set(scope, status)
    for (const listener of this.statusListeners) listener()
  }

  private attach(scope: SocketScope): void {
    if (this.attached.has(scope)) return
    let detach: (() => void) | null = null
    let retry: ReturnType<typeof setTimeout> | null = null
    let cancelled = false
    this.attached.set(scope, () => {
      cancelled = true
      detach?.()
      if (retry) clearTimeout(retry)
    })
    getSocket(scope).then(
      (socket) => {
        if (!cancelled) detach = this.listen(scope, socket)
      },
      () => {
        if (cancelled) return
        // No token (the web tier restarting, or no session yet): show it, and ask again shortly.
        this.setStatus(scope, 'offline')
        retry = setTimeout(() => {
          this.attached.delete(scope)
          if (this.started) this.attach(scope)
        }, RETRY_SOCKET_MS)
      },
    )
  }

  private listen(scope: SocketScope, socket: Socket): () => void {
    const onChanged = (raw: unknown) => {
      const job = JobSnapshot.safeParse(raw)
      if (job.success) this.apply(scope, job.data)
    }
    const onConnect = () => {
      this.setStatus(scope, 'live')
      // The server joined this socket to its rooms before answering the connect, so a read that
      // starts now misses nothing: what it cannot see yet arrives as an event.
      this.resync(scope)
    }
    const onDown = () => this.setStatus(scope, 'offline')
    socket.on(JOB_CHANGED_EVENT, onChanged)
    socket.on('connect', onConnect)
    socket.on('disconnect', onDown)
    socket.on('connect_error', onDown)
    // Attached to a socket that was already connected (a remount): events went unheard meanwhile.
    if (socket.connected) onConnect()
    return () => {
      socket.off(JOB_CHANGED_EVENT, onChanged)
      socket.off('connect', onConnect)
      socket.off('disconnect', onDown)
      socket.off('connect_error', onDown)
    }
  }

  /**
   * Back/forward cache: the page's memory is restored as it was, cache included, while its socket
   * was closed (socket.ts closes it on `pagehide` and reopens it on `pageshow`) and events were
   * missed. Refetch now, over HTTP, without waiting for the socket; its connect refetches again.
   */
  private onPageShow = (event: PageTransitionEvent) => {
    if (!event.persisted) return
    for (const scope of this.wanted) this.resync(scope)
  }
}

const LiveJobsContext = createContext<LiveJobs | null>(null)

/**
 * Owns the tab's job sockets and keeps the React Query cache live. Mount once, inside
 * `QueryClientProvider`, in the root layout (app/providers.tsx), so it outlives navigation.
 */
export function JobsProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient()
  const [live] = useState(() => new LiveJobs(queryClient))
  useEffect(() => {
    live.start()
    return () => live.stop()
  }, [live])
  return <LiveJobsContext.Provider value={live}>{children}</LiveJobsContext.Provider>
}

/** The provider's state, with `scope` watched while the calling component is mounted. */
export function useLiveJobs(scope: SocketScope): LiveJobs {
  const live = useContext(LiveJobsContext)
  if (!live) throw new Error('Job hooks need <JobsProvider> (mounted once in app/providers.tsx).')
  useEffect(() => live.watch(scope), [live, scope])
  return live
}

/** Whether the tab's socket for `scope` (default `viewer`) is connected. Opens it if needed. */
export function useRealtimeStatus(scope: SocketScope = 'viewer'): RealtimeStatus {
  const live = useLiveJobs(scope)
  return useSyncExternalStore(
    live.subscribeStatus,
    () => live.status(scope),
    () => 'connecting',
  )
}

/**
 * Calls `listener` with every change of a job in `scope` (default `viewer`) while mounted, for
 * views that show more than a job (a list of sent emails, say). The listener may change between
 * renders without resubscribing.
 */
export function useJobChanges(listener: JobChangeListener, scope: SocketScope = 'viewer'): void {
  const live = useLiveJobs(scope)
  const listenerRef = useRef(listener)
  useEffect(() => {
    listenerRef.current = listener
  })
  useEffect(() => live.onJobChange((job, from) => from === scope && listenerRef.current(job, from)), [live, scope])
}
