/**
 * React Query keys for jobs, per socket scope: a viewer's lists hold only their own jobs, an
 * operator's hold everyone's, so events from one scope never land in the other's lists.
 * Invalidate `jobKeys.scope(scope)` to refetch everything about jobs in that scope.
 */
import type { JobListFilter } from './job-cache'
import type { SocketScope } from './socket'

export const jobKeys = {
  all: ['jobs'] as const,
  scope: (scope: SocketScope) => ['jobs', scope] as const,
  lists: (scope: SocketScope) => ['jobs', scope, 'list'] as const,
  list: (scope: SocketScope, filter: JobListFilter) => ['jobs', scope, 'list', filter] as const,
  detail: (scope: SocketScope, id: string) => ['jobs', scope, 'detail', id] as const,
  timeline: (scope: SocketScope, id: string) => ['jobs', scope, 'timeline', id] as const,
  overview: () => ['jobs', 'operator', 'overview'] as const,
}
