/**
 * The socket.io server of the worker tier. Browsers connect with a short-lived token from the web
 * tier and join their own `owner:<id>` room only. Job changes reach them two ways:
 * - every change written to `app.jobs` arrives as a NOTIFY (table trigger) at every realtime
 *   process, which emits it to its *local* sockets (each process gets each NOTIFY: no duplicates);
 * - progress-only updates (not written to the row) are broadcast through the postgres adapter.
 */
import { createAdapter } from '@socket.io/postgres-adapter'
import { createServer, type Server as HttpServer } from 'node:http'
import type pg from 'pg'
import { Server } from 'socket.io'
import { z } from 'zod'
import {
  JOB_CHANGED_EVENT,
  JOB_SUBSCRIBE_EVENT,
  JobSubscribeMessage,
  MAX_CLIENT_MESSAGE_BYTES,
  type JobSubscribeAck,
  jobRoom,
  ownerRoom,
} from '@/lib/jobs/events'
import { UNAVAILABLE_MESSAGE } from '@/lib/jobs/errors'
import { JobSnapshot } from '@/lib/jobs/job'
import { fail, ok } from '@/lib/jobs/result'
import { findJob, findJobForOwner } from '@/lib/server/job-store'
import { verifyOperatorRealtimeToken, verifyRealtimeToken } from '@/lib/server/tokens'
import type { Logger } from './logger'

/** Largest NOTIFY payload PostgreSQL accepts, in bytes (its limit is "shorter than 8000 bytes"). */
export const NOTIFY_PAYLOAD_MAX_BYTES = 7999

/** Room of operators' sockets: they receive every job's events. */
const OPERATORS_ROOM = 'operators'

/**
 * The JSON the `app.jobs` trigger sends on `nbj_job_changed`: the job's id, owner and seq, and
 * its snapshot (null when over NOTIFY's 8000 bytes). Only the envelope is checked on arrival;
 * the snapshot is validated when it is about to reach a socket (most changes reach none).
 */
export const JobChangedNotification = z.object({
  id: z.uuid(),
  owner: z.string(),
  seq: z.number(),
  snapshot: z.record(z.string(), z.unknown()).nullable(),
})
export type JobChangedNotification = z.infer<typeof JobChangedNotification>

export interface RealtimeOptions {
  pool: pg.Pool
  secret: string
  log: Logger
  /** Port to serve browsers on; `null` runs a headless server that only broadcasts. */
  port: number | null
  /**
   * Origins whose pages may open sockets (`APP_ORIGIN`, a list once `workerEnv()` parsed it), e.g.
   * `https://app.example.com`. Checked
   * on every handshake, websocket and polling alike (socket.io `allowRequest`), and sent as CORS
   * headers for polling. A handshake without an `Origin` header is not from a browser page and
   * needs only a valid token.
   */
  origins: string[]
}

export interface Realtime {
  io: Server
  /** The port actually listened on (useful with port 0), or null when headless. */
  port: number | null
  /** Sends a progress-only snapshot to the owner's sockets on every realtime process. */
  publish(ownerId: string, snapshot: JobSnapshot): void
  /** Emits a row change (from NOTIFY) to this process's sockets. */
  onJobChanged(notification: JobChangedNotification): Promise<void>
  /**
   * Emits every job row changed since the last change this process saw (with `CATCH_UP_WINDOW_MS`
   * of overlap), as it is now, to this process's sockets: for a LISTEN connection that was down,
   * whose NOTIFYs are lost. Resolves with the number of rows read.
   */
  catchUp(): Promise<number>
  close(): Promise<void>
}

/**
 * How far back, in ms, a catch-up reaches before the last change seen. A row's `seq` is taken
 * when it is written but its NOTIFY is sent when its transaction commits, so a write may commit
 * after a newer one was already seen; job writes commit within milliseconds, and the overlap only
 * re-sends rows the clients already have (they keep the higher `seq`).
 */
export const CATCH_UP_WINDOW_MS = 5_000

export async function startRealtime(options: RealtimeOptions): Promise<Realtime> {
  // The highest seq seen on NOTIFY, and what it was one and two windows ago (the catch-up start).
  const { rows: seqRows } = await options.pool.query<{ seq: string }>('SELECT last_value AS seq FROM app.job_seq')
  let lastSeq = Number(seqRows[0]!.seq)
  const seqHistory = [lastSeq, lastSeq]
  const seqTimer = setInterval(() => {
    seqHistory.shift()
    seqHistory.push(lastSeq)
  }, CATCH_UP_WINDOW_MS).unref()

  const allowedOrigins = new Set(options.origins.map((origin) => new URL(origin).origin))
  const io = new Server({
    cors: { origin: [...allowedOrigins] },
    // CORS only guards polling requests: a page on any site may open a websocket to us, with the
    // viewer's token if it can get one. Browsers send Origin on every cross-origin handshake
    // (this server never shares the page's port), so checking it here covers every transport.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin
      callback(null, origin === undefined || allowedOrigins.has(origin))
    },
    maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
    serveClient: false,
  })
  io.adapter(
    createAdapter(options.pool, {
      tableName: 'app.socket_io_attachments',
      // PostgreSQL takes NOTIFY payloads *shorter* than 8000 bytes; the adapter (0.5.0, the latest)
      // sends a packet inline up to and including `payloadThreshold` (default 8000), so a packet of
      // exactly 8000 bytes failed and reached no other process (it still reached local sockets).
      // Larger packets go through the attachments table. test/realtime-processes.int.test.ts.
      payloadThreshold: NOTIFY_PAYLOAD_MAX_BYTES,
      errorHandler: (err) => options.log.warn(`adapter: ${err.message}`),
    }),
  )

  io.use(async (socket, next) => {
    const token: unknown = socket.handshake.auth?.token
    if (typeof token !== 'string' || token.length >= 2048) return next(new Error('UNAUTHORIZED'))
    const viewerId = await verifyRealtimeToken(options.secret, token)
    const operatorId = viewerId ? null : await verifyOperatorRealtimeToken(options.secret, token)
    if (!viewerId && !operatorId) return next(new Error('UNAUTHORIZED'))
    socket.data.viewerId = viewerId ?? operatorId
    socket.data.operator = operatorId !== null
    next()
  })

  io.on('connection', (socket) => {
    const viewerId: string = socket.data.viewerId
    // Operators (signed in at /admin) see every job's events; everyone else only their own.
    void socket.join(socket.data.operator ? OPERATORS_ROOM : ownerRoom(viewerId))
    socket.on(JOB_SUBSCRIBE_EVENT, async (raw: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (answer: JobSubscribeAck) => void) : () => undefined
      const message = JobSubscribeMessage.safeParse(raw)
      if (!message.success) {
        options.log.warn(`socket ${socket.id}: dropped malformed ${JOB_SUBSCRIBE_EVENT} message`)
        return reply(fail('VALIDATION', 'Expected { jobId: uuid }.'))
      }
      try {
        const job = await findJobForOwner(options.pool, message.data.jobId, viewerId)
        if (!job) return reply(fail('NOT_FOUND', 'No such job.'))
        await socket.join(jobRoom(job.id))
        reply(ok(job))
      } catch (err) {
        options.log.warn(`socket ${socket.id}: subscribe failed: ${(err as Error).message}`)
        reply(fail('UNAVAILABLE', UNAVAILABLE_MESSAGE))
      }
    })
    // Anything else a browser sends is ignored; the connection stays healthy. The event name is
    // not logged: it is untrusted text (log injection) and may be long.
    socket.onAny((event: unknown) => {
      if (event !== JOB_SUBSCRIBE_EVENT) options.log.warn(`socket ${socket.id}: ignored unknown event`)
    })
    // A packet socket.io cannot decode is a protocol violation: socket.io reports it here, then
    // closes that connection (its browser reconnects with a fresh token and re-subscribes).
    socket.on('error', (err: unknown) => {
      options.log.warn(
        `socket ${socket.id}: dropped a malformed packet (${err instanceof Error ? err.message.slice(0, 200) : 'unknown error'})`,
      )
    })
    // A message over MAX_CLIENT_MESSAGE_BYTES makes the transport close the connection ("transport
    // error"; websocket close code 1009) before anything is parsed: only that client is affected.
    socket.on('disconnect', (reason: string, description: unknown) => {
      if (reason !== 'transport error' && reason !== 'parse error') return
      const detail = description instanceof Error ? `: ${description.message.slice(0, 200)}` : ''
      options.log.warn(`socket ${socket.id}: closed after a malformed or oversized message (${reason}${detail})`)
    })
  })

  let http: HttpServer | null = null
  let port: number | null = null
  if (options.port !== null) {
    http = createServer((req, res) => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
        return
      }
      res.writeHead(404).end()
    })
    io.attach(http)
    await new Promise<void>((resolve, reject) => {
      http!.once('error', reject)
      http!.listen(options.port!, () => resolve())
    })
    const address = http.address()
    port = typeof address === 'object' && address ? address.port : options.port
  }

  const realtime: Realtime = {
    io,
    port,
    publish(ownerId, snapshot) {
      io.to([ownerRoom(ownerId), jobRoom(snapshot.id), OPERATORS_ROOM]).emit(JOB_CHANGED_EVENT, snapshot)
    },
    async onJobChanged(notification) {
      lastSeq = Math.max(lastSeq, notification.seq)
      const rooms = [ownerRoom(notification.owner), jobRoom(notification.id), OPERATORS_ROOM]
      if (!rooms.some((room) => io.of('/').adapter.rooms.has(room))) return
      // Over NOTIFY's size limit the trigger sends no snapshot: read it (findJob adds ownerId; parse drops it).
      const snapshot = JobSnapshot.parse(notification.snapshot ?? (await findJob(options.pool, notification.id)))
      io.local.to(rooms).emit(JOB_CHANGED_EVENT, snapshot)
    },
    async catchUp() {
      const since = seqHistory[0]!
      const { rows } = await options.pool.query<{ id: string; owner: string; seq: string; snapshot: unknown }>(
        `SELECT j.id, j.owner_id AS owner, j.seq, app.job_snapshot(j) AS snapshot
           FROM app.jobs j WHERE j.seq > $1 ORDER BY j.seq`,
        [since],
      )
      for (const row of rows) {
        const snapshot = row.snapshot as Record<string, unknown>
        await realtime.onJobChanged({ id: row.id, owner: row.owner, seq: Number(row.seq), snapshot })
      }
      return rows.length
    },
    async close() {
      clearInterval(seqTimer)
      io.disconnectSockets(true)
      // io.close() also closes the adapter and the HTTP server; a headless server has neither engine nor HTTP.
      if (http) await new Promise<void>((resolve) => io.close(() => resolve()))
      else await (io.of('/').adapter as unknown as { close(): Promise<void> | void }).close()
    },
  }
  return realtime
}
