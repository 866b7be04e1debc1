/**
 * A queue's part of a graceful stop: running attempts get `graceMs` to finish, then their signal
 * is aborted with reason "shutdown" and they get `SHUTDOWN_ABORT_WAIT_MS` more; an attempt whose
 * handler ignores that too is failed into pg-boss's retry without it (never left active), and
 * whatever the handler does later is discarded.
 */
import type { Attempt } from './attempt'
import type { AttemptOutcome } from './outcome'

/** How long handlers get to react to a shutdown abort before they are settled without them, in ms. */
export const SHUTDOWN_ABORT_WAIT_MS = 2_000

export async function stopAttempts(
  attempts: () => Attempt[],
  graceMs: number,
  release: (attempt: Attempt, outcome: AttemptOutcome) => Promise<void>,
): Promise<void> {
  if (await allSettledWithin(attempts(), graceMs)) return
  for (const attempt of attempts()) attempt.abort('shutdown')
  if (await allSettledWithin(attempts(), SHUTDOWN_ABORT_WAIT_MS)) return
  const ignoring = attempts().filter((a) => !a.settling)
  await Promise.all(ignoring.map((a) => release(a, a.failure(new Error('ignored its abort signal'), 'shutdown'))))
}

/** Waits up to `ms` for every attempt to settle; resolves whether they all did. */
async function allSettledWithin(attempts: Attempt[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  const settled = Promise.all(attempts.map((a) => a.done)).then(() => true as const)
  const outcome = await Promise.race([settled, timeout])
  clearTimeout(timer)
  return outcome
}
