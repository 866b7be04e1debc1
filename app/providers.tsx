'use client'
/**
 * Client-side providers, mounted once in the root layout: one React Query client per browser tab,
 * and `JobsProvider`, which owns the tab's job sockets and keeps that cache live (lib/client).
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { JobsProvider } from '@/lib/client/jobs-provider'

export function Providers({ children }: { children: ReactNode }) {
  // useState, not a module constant: one client per browser, never shared between requests on the server.
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } }),
  )
  return (
    <QueryClientProvider client={queryClient}>
      <JobsProvider>{children}</JobsProvider>
    </QueryClientProvider>
  )
}
