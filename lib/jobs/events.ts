/**
 * Realtime contract between the socket.io server (worker tier) and the browser.
 * A socket event is only a hint that a job's row changed: PostgreSQL stays the truth.
 */
import { z } from 'zod'
import type { JobSnapshot } from './job'
import type { ActionResult } from './result'

/** Server -> client: a job changed. Payload: a `JobSnapshot`. */
export const JOB_CHANGED_EVENT = 'queue.job.changed'

/** Client -> server, with an ack: subscribe to one job. Ack: `JobSubscribeAck`. */
export const JOB_SUBSCRIBE_EVENT = 'job.subscribe'

/** Largest socket message the server accepts from a browser, in bytes (socket.io `maxHttpBufferSize`). */
export const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024

export const JobSubscribeMessage = z.strictObject({ jobId: z.uuid() })
export type JobSubscribeMessage = z.infer<typeof JobSubscribeMessage>

/**
 * The server's answer to `JOB_SUBSCRIBE_EVENT`, the same shape as a Server Action's: the job's current
 * snapshot, or `VALIDATION` (not `{ jobId: uuid }`), `NOT_FOUND` (not the caller's job), `UNAVAILABLE`.
 */
export type JobSubscribeAck = ActionResult<JobSnapshot>

/** Room of every socket of one viewer. */
export function ownerRoom(ownerId: string): string {
  return `owner:${ownerId}`
}

/** Room of the sockets that subscribed to one job. */
export function jobRoom(jobId: string): string {
  return `job:${jobId}`
}

/** PostgreSQL NOTIFY channel the `app.jobs` trigger publishes every change on (see workers/migrations). */
export const JOB_CHANGED_CHANNEL = 'nbj_job_changed'
