/** React Query keys for jobs. Invalidate `jobKeys.all` to refetch everything about jobs. */
export const jobKeys = {
  all: ['jobs'] as const,
  list: () => ['jobs', 'list'] as const,
  detail: (id: string) => ['jobs', 'detail', id] as const,
}
