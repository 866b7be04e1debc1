/** Durations as people read them, for job lists and pages. Titles come from the registry (lib/jobs/registry.ts). */

/** Human duration: "850 ms", "12 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** Milliseconds a job ran: from start to settle, or to now while it runs. */
export function elapsedMs(startedAt: string, settledAt: string | null, now: number = Date.now()): number {
  return (settledAt ? Date.parse(settledAt) : now) - Date.parse(startedAt)
}
