/**
 * Scenario 5, `export.*`: the real ExportQueue in a worker process of its own (bench/export-worker.ts)
 * exporting every city, then a dataset ten times larger, each against PostgreSQL's own
 * `COPY (the same SELECT) TO STDOUT WITH CSV` read through pg-copy-streams in the same run.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { EXPORTS_QUEUE, ExportResult } from '@/lib/jobs/exports'
import { SETTLED_STATES } from '@/lib/jobs/job'
import { CITY_COLUMNS, citiesWhere } from '@/lib/server/cities'
import { enqueueJob } from '@/lib/server/enqueue'
import { workerNodeOptions } from './compiled-worker'
import type { ExportWorkerReply, ExportWorkerRequest } from './export-worker'
import { PER_ROW_EXPORTS_QUEUE } from './queues'
import type { JobWatcher } from './job-watcher'
import { compared, figure, type ScenarioResult } from './report'

export interface ExportOptions {
  url: string
  pool: pg.Pool
  watcher: JobWatcher
  /** Copies of the cities in the large dataset (10 for 1.35 million rows). */
  largeCopies: number
  /**
   * Further points of the scaling curve, in copies of the cities (each above `largeCopies`; 37 for
   * 5.0 million rows): the table grows to each in turn and is exported once. Default none.
   */
  curveCopies?: readonly number[]
}

/** Longest one export may take before the bench gives up, in ms: the 5-million-row point on a loaded 2-core machine. */
const EXPORT_TIMEOUT_MS = 900_000
/** Added to a city's id per copy: GeoNames ids (up to 12.1 million) stay below it, and 100 copies stay within `integer`. */
const COPY_ID_STRIDE = 20_000_000
/**
 * Timed exports of all cities per variant (as shipped, reporting every row, COPY); the fastest counts.
 * Five, not three: the per-row variant differs from the shipped one by about 1 ms of 180, so
 * `progress.overhead.export` is all noise unless each side gets enough tries at a quiet moment.
 */
const EXPORT_REPEATS = 5

const execFileAsync = promisify(execFile)

/**
 * Bundles bench/export-worker.ts with scripts/build-worker.mjs, as `npm run build` bundles the
 * worker, so the memory measured is that of compiled JavaScript under plain `node` (production),
 * not of tsx compiling TypeScript in the process. Returns the bundle's path.
 */
async function compileExportWorker(): Promise<string> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  await execFileAsync(
    process.execPath,
    ['scripts/build-worker.mjs', '--entry', 'bench/export-worker.ts', '--outdir', '.data/bench-worker'],
    { cwd: root },
  )
  return `${root}.data/bench-worker/export-worker.js`
}

/** The child worker process and its request/reply channel (one request at a time). */
class ExportWorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly idleRssMb: number,
  ) {}

  static async start(url: string): Promise<ExportWorkerProcess> {
    const entry = await compileExportWorker()
    const child = fork(entry, [], {
      // The node options `npm run worker` runs the shipped bundle with (the young generation's size among them).
      execArgv: workerNodeOptions(),
      env: { ...process.env, BENCH_DATABASE_URL: url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    try {
      const ready = await ExportWorkerProcess.nextReply(child)
      if (ready.type !== 'ready') throw new Error(`export worker answered ${ready.type} before ready`)
      return new ExportWorkerProcess(child, ready.rssMb)
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    }
  }

  private static nextReply(child: ChildProcess): Promise<ExportWorkerReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`export worker exited (code ${code}) before answering`))
      child.once('exit', onExit)
      child.once('message', (reply: ExportWorkerReply) => {
        child.off('exit', onExit)
        resolve(reply)
      })
    })
  }

  async request(request: ExportWorkerRequest): Promise<ExportWorkerReply> {
    const reply = ExportWorkerProcess.nextReply(this.child)
    this.child.send(request)
    return reply
  }

  /** Asks the worker to stop gracefully; kills it (this child only) if it has not exited within 15 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.send({ type: 'stop' } satisfies ExportWorkerRequest)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
}

/** The export's SELECT for an empty filter, as ExportQueue builds it. */
function exportSelect(): string {
  const { where } = citiesWhere({})
  return `SELECT ${CITY_COLUMNS.join(', ')} FROM app.cities ${where} ORDER BY id`
}

async function countCities(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.cities')).rows[0]!.n
}

/** Rows per second of one export job, from enqueue to completed; checks every row was written. */
async function timeExport(
  options: ExportOptions,
  expectedRows: number,
  queue: string = EXPORTS_QUEUE,
): Promise<{ rowsPerS: number; seconds: number; bytes: number }> {
  const started = performance.now()
  const job = await enqueueJob(options.pool, { queue, ownerId: randomUUID(), payload: {} })
  const done = await options.watcher.waitFor(job.id, SETTLED_STATES, EXPORT_TIMEOUT_MS)
  const seconds = (performance.now() - started) / 1000
  if (done.state !== 'completed') throw new Error(`export ${job.id} ended ${done.state}: ${done.error?.message ?? ''}`)
  const result = ExportResult.parse(done.result)
  if (result.rows !== expectedRows) throw new Error(`export wrote ${result.rows} rows, expected ${expectedRows}`)
  // The file is not needed; dropping it keeps the bench database small.
  await options.pool.query('DELETE FROM app.job_file_parts WHERE job_id = $1', [job.id])
  return { rowsPerS: result.rows / seconds, seconds, bytes: result.bytes }
}

/** Rows per second of `COPY (the export's SELECT) TO STDOUT WITH CSV`, drained through pg-copy-streams. */
async function timeCopy(pool: pg.Pool, rows: number): Promise<{ rowsPerS: number; seconds: number; bytes: number }> {
  const client = await pool.connect()
  try {
    const started = performance.now()
    let bytes = 0
    for await (const chunk of client.query(copyTo(`COPY (${exportSelect()}) TO STDOUT WITH (FORMAT csv, HEADER)`))) {
      bytes += (chunk as Buffer).length
    }
    const seconds = (performance.now() - started) / 1000
    return { rowsPerS: rows / seconds, seconds, bytes }
  } finally {
    client.release()
  }
}

/**
 * Grows `app.cities` from `from` to `copies` times the seeded cities, in SQL (this is the bench's own
 * database): copies number `from` to `copies - 1` of the seeded rows are added.
 */
async function growCities(pool: pg.Pool, copies: number, from = 1): Promise<void> {
  const { rows } = await pool.query<{ max: number }>('SELECT max(id) AS max FROM app.cities')
  if ((rows[0]?.max ?? 0) >= from * COPY_ID_STRIDE) throw new Error(`app.cities already holds more than ${from} copies`)
  await pool.query(
    `INSERT INTO app.cities (id, name, country, admin_code, population, latitude, longitude)
     SELECT c.id + k * $3::int, c.name, c.country, c.admin_code, c.population, c.latitude, c.longitude
     FROM app.cities c CROSS JOIN generate_series($1::int, $2::int) AS k
     WHERE c.id < $3::int`,
    [from, copies - 1, COPY_ID_STRIDE],
  )
  await pool.query('ANALYZE app.cities')
}

function describe(label: string, rows: number, r: { seconds: number; bytes: number }): string {
  return `${label}: ${rows.toLocaleString('en-US')} rows, ${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(2)} s`
}

/** The fastest of `runs`: on a shared machine, noise only ever slows a run down. */
function fastest<T extends { seconds: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a))
}

/**
 * Exports all cities, grows the table to `largeCopies` times its size (the same table, so the
 * ExportQueue code path is untouched), exports again while the worker's RSS is sampled every 50 ms.
 * The all-cities figure is the best of three warm exports against the best of three COPYs: the
 * first export of a fresh worker process also pays for its JIT, its first connections and their
 * catalog caches, which COPY (run after it) would not.
 */
export async function exportScenario(options: ExportOptions): Promise<ScenarioResult> {
  const worker = await ExportWorkerProcess.start(options.url)
  try {
    const cities = await countCities(options.pool)
    await worker.request({ type: 'reset-peak' })
    const first = await timeExport(options, cities)
    const oursRss = await worker.request({ type: 'read-rss' })
    // The export as shipped (progress every 2,000 rows), the same export reporting progress on
    // every row, and COPY: EXPORT_REPEATS each, alternating.
    const chunkedRuns: Awaited<ReturnType<typeof timeExport>>[] = []
    const copyRuns: Awaited<ReturnType<typeof timeCopy>>[] = []
    const perRow: number[] = []
    for (let i = 0; i < EXPORT_REPEATS; i++) {
      chunkedRuns.push(await timeExport(options, cities))
      perRow.push((await timeExport(options, cities, PER_ROW_EXPORTS_QUEUE)).seconds)
      copyRuns.push(await timeCopy(options.pool, cities))
    }
    const ours = fastest(chunkedRuns)
    const copy = fastest(copyRuns)
    const chunked = chunkedRuns.map((r) => r.seconds)

    await growCities(options.pool, options.largeCopies)
    const largeRows = await countCities(options.pool)
    const before = await worker.request({ type: 'reset-peak' })
    const oursLarge = await timeExport(options, largeRows)
    const after = await worker.request({ type: 'read-rss' })
    const copyLarge = await timeCopy(options.pool, largeRows)
    if (before.type !== 'rss' || after.type !== 'rss' || oursRss.type !== 'rss')
      throw new Error('export worker did not report its RSS')

    // The scaling curve: rows against export time and the worker's peak RSS, COPY's time beside it.
    const curve = [
      { rows: cities, ours: ours.seconds, copy: copy.seconds, peakMb: oursRss.peakMb },
      { rows: largeRows, ours: oursLarge.seconds, copy: copyLarge.seconds, peakMb: after.peakMb },
    ]
    let copies = options.largeCopies
    for (const next of options.curveCopies ?? []) {
      await growCities(options.pool, next, copies)
      copies = next
      const rows = await countCities(options.pool)
      await worker.request({ type: 'reset-peak' })
      const exported = await timeExport(options, rows)
      const rss = await worker.request({ type: 'read-rss' })
      if (rss.type !== 'rss') throw new Error('export worker did not report its RSS')
      curve.push({
        rows,
        ours: exported.seconds,
        copy: (await timeCopy(options.pool, rows)).seconds,
        peakMb: rss.peakMb,
      })
    }

    return {
      measurements: [
        compared('export.rows_per_s', ours.rowsPerS, 'rows/s', 'COPY TO STDOUT', copy.rowsPerS),
        compared('export.rows_per_s.large', oursLarge.rowsPerS, 'rows/s', 'COPY TO STDOUT', copyLarge.rowsPerS),
        figure('export.peak_rss_mb', after.peakMb, 'MB'),
        // The issue's memory target: the export may add at most 30 MB to the worker's idle RSS.
        figure('export.peak_rss_over_idle_mb', after.peakMb - worker.idleRssMb, 'MB'),
        compared(
          'progress.overhead.export',
          Math.min(...perRow) * 1000,
          'ms',
          'progress every 2,000 rows',
          Math.min(...chunked) * 1000,
        ),
        ...curve.flatMap((p) => [
          figure(`curve.export.seconds.${p.rows}`, p.ours, 's'),
          figure(`curve.copy.seconds.${p.rows}`, p.copy, 's'),
          figure(`curve.export.peak_rss_mb.${p.rows}`, p.peakMb, 'MB'),
        ]),
      ],
      notes: [
        describe(
          `export, ExportQueue (enqueue to completed, file stored in app.job_file_parts), best of ${EXPORT_REPEATS} warm`,
          cities,
          ours,
        ),
        describe('export, ExportQueue, the first in the fresh worker process', cities, first),
        describe(`export, COPY TO STDOUT WITH CSV through pg-copy-streams, best of ${EXPORT_REPEATS}`, cities, copy),
        `progress overhead on the real export (all cities, best of ${EXPORT_REPEATS}): ${(Math.min(...perRow) * 1000).toFixed(0)} ms reporting every row vs ${(Math.min(...chunked) * 1000).toFixed(0)} ms every 2,000 rows`,
        describe(`export large (cities x ${options.largeCopies}), ExportQueue`, largeRows, oursLarge),
        describe(`export large (cities x ${options.largeCopies}), COPY`, largeRows, copyLarge),
        `export: RSS of the worker process (a forked child running only ExportQueue, compiled as npm run build compiles the worker, sampled every 50 ms): ${options.largeCopies === 10 ? '' : 'on the reduced quick dataset, '}` +
          `${worker.idleRssMb.toFixed(0)} MB once started, ${before.rssMb.toFixed(0)} MB before the large export, peak ${after.peakMb.toFixed(0)} MB during it ` +
          `(at the peak: V8 heap ${after.atPeak.heapUsedMb.toFixed(0)} MB used of ${after.atPeak.heapTotalMb.toFixed(0)} MB, external ${after.atPeak.externalMb.toFixed(0)} MB)`,
        `export curve (rows: ExportQueue s / COPY s / worker peak RSS): ${curve
          .map(
            (p) =>
              `${p.rows.toLocaleString('en-US')}: ${p.ours.toFixed(1)} / ${p.copy.toFixed(1)} s / ${p.peakMb.toFixed(0)} MB`,
          )
          .join('; ')}`,
      ],
    }
  } finally {
    await worker.stop()
  }
}
