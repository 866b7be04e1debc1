/**
 * Times as people read them in job lists: "just now", "2 min ago", "3 h ago", "yesterday", with
 * the absolute UTC time beside it for a title attribute or `<time dateTime>`. Pure, so the server
 * render and the browser agree on everything except `now`.
 */

/**
 * How long ago `iso` was, relative to `now` (ms since the epoch, default `Date.now()`):
 * under 10 s "just now", then "42 s ago", "2 min ago", "3 h ago", "yesterday", "4 days ago",
 * and from 30 days on the date ("on 2026-11-30"). A time slightly in the future (clock skew
 * between the database and this machine) also reads "just now". An unparseable time reads "".
 */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return ''
  const seconds = Math.floor((now - at) / 1000)
  if (seconds < 10) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  const days = Math.floor(hours / 24)
  if (days === 1) return 'yesterday'
  if (days < 30) return `${days} days ago`
  return `on ${new Date(at).toISOString().slice(0, 10)}`
}

/** "2026-11-30 05:00:02 UTC": the absolute time, for a title attribute. An unparseable time reads "". */
export function formatAbsolute(iso: string): string {
  const at = Date.parse(iso)
  return Number.isNaN(at) ? '' : `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/**
 * Milliseconds until a relative time shown for `iso` next changes its wording, so a view re-renders
 * only when needed: every second under a minute, every minute under an hour, then every hour.
 */
export function relativeRefreshMs(iso: string, now: number = Date.now()): number {
  const age = now - Date.parse(iso)
  if (!(age < 60_000)) return age < 3_600_000 ? 60_000 - (age % 60_000) : 3_600_000 - (age % 3_600_000)
  return 1_000
}
