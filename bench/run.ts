/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --redis URL]`: measures the template against raw
 * pg-boss, graphile-worker, BullMQ (Redis and PostgreSQL backends), PostgreSQL's COPY and the latency
 * targets of issues 4 and 12, prints one table, and writes the figures as JSON and the scaling curves
 * as an SVG beside it (FILE with .svg for .json).
 *
 * Boots its own database (`nbj_bench`, dropped and recreated: embedded PostgreSQL unless
 * DATABASE_URL is set), starts the template's worker in this process with the bench queues
 * (bench/queues.ts) and realtime on a free port, runs every scenario with a fixed amount of work,
 * then stops everything it started. BullMQ's Redis backend runs only when a Redis server answers at
 * `--redis` (default redis://127.0.0.1:6379; its keys use a prefix of this run's own). Exits 0 whenever the scenarios ran, whatever the figures
 * (a missed target is a finding, not a failure); 1 if a scenario could not run.
 * To change the amount of work, edit MODES below; to add a figure, add its target in report.ts.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { createPool } from '@/lib/server/db'
import { stopProducer } from '@/lib/server/enqueue'
import type { Logger } from '@/workers/logger'
import { startWorker } from '@/workers/worker'
import { prepareDatabase } from '../scripts/database'
import { bullDispatchScenario, redisAvailable, type BullBackend } from './bullmq'
import { renderCharts } from './charts'
import { compiledWorkerScenario } from './compiled-worker'
import { exportScenario } from './export'
import { JobWatcher } from './job-watcher'
import { cancelScenario, dispatchScenario, overheadScenario, progressScenario, startDispatchSampler } from './latency'
import { BENCH_QUEUES } from './queues'
import { formatTable, missedTargets, writeJson, type Measurement, type ScenarioResult } from './report'
import { quiesce, throughputScenario } from './throughput'

/**
 * Amount of work per mode. Quick must finish in under two minutes on 2 cores (CI runs it); full takes
 * far longer for its scaling points (200,000 queued jobs, 5 million exported rows).
 * `throughput.points` are the backlog sizes of the throughput curve (`jobs` is the headline point);
 * `exportCurveCopies` the further export points in copies of the cities (37: 5.0 million rows).
 */
const MODES = {
  full: {
    throughput: {
      jobs: 20_000,
      points: [2_000, 20_000, 200_000],
      batch: 500,
      warmup: 500,
      rounds: 2,
      deadlineMs: 60_000,
      pgBossDeadlineMs: 30_000,
    },
    dispatchSamples: 200,
    progress: { jobs: 5, reportsPerJob: 20, burst: 2_000, clients: 10 },
    cancelSamples: 100,
    overhead: { rows: 200_000, repeats: 24 },
    exportCopies: 10,
    exportCurveCopies: [37],
  },
  quick: {
    throughput: {
      jobs: 2_000,
      points: [2_000],
      batch: 250,
      warmup: 100,
      rounds: 2,
      deadlineMs: 15_000,
      pgBossDeadlineMs: 6_000,
    },
    dispatchSamples: 40,
    progress: { jobs: 2, reportsPerJob: 10, burst: 1_000, clients: 10 },
    cancelSamples: 30,
    overhead: { rows: 200_000, repeats: 16 },
    exportCopies: 2,
    exportCurveCopies: [],
  },
}

const USAGE = `Usage: npm run bench [-- --quick] [-- --json FILE] [-- --redis URL]
  --quick      smaller counts, same scenarios, one point per curve (under two minutes)
  --json FILE  where to write the figures as JSON (default bench/results.json); the charts go to FILE with .svg
  --redis URL  Redis server for BullMQ's Redis backend (default redis://127.0.0.1:6379); skipped when none answers`

function parseCommandLine(): { quick: boolean; json: string; redis: string } {
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string', default: 'bench/results.json' },
        redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    return { quick: values.quick, json: values.json, redis: values.redis }
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`)
    process.exit(2)
  }
}

/** The worker's info lines (one per job) would bury the table; keep warnings and errors. */
const quietLog: Logger = {
  info: () => undefined,
  warn: (m) => console.warn(`[bench worker] ${m}`),
  error: (m) => console.error(`[bench worker] ${m}`),
}

async function main(): Promise<number> {
  const args = parseCommandLine()
  const mode = args.quick ? MODES.quick : MODES.full
  const started = performance.now()
  // Other processes skew every figure on a small machine: print the load next to the results.
  const loadBefore = loadavg()[0]!
  const measurements: Measurement[] = []
  const notes: string[] = []
  let failed = 0

  const step = async (label: string, scenario: () => Promise<ScenarioResult>) => {
    const t = performance.now()
    console.log(`[bench] ${label}...`)
    try {
      const result = await scenario()
      measurements.push(...result.measurements)
      notes.push(...result.notes)
      console.log(`[bench] ${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    } catch (err) {
      failed++
      notes.push(`${label} FAILED: ${(err as Error).message}`)
      console.error(`[bench] ${label} failed: ${(err as Error).stack ?? err}`)
    }
  }

  const db = await prepareDatabase({ purpose: 'bench', database: 'nbj_bench', fresh: true, setup: true })
  // The worker reads its settings with workerEnv() (lib/server/env.ts), which requires DATABASE_URL,
  // as in a worker process: the bench's worker, and the export worker it forks, run on this database.
  process.env.DATABASE_URL = db.url
  const pool = createPool(db.url, { max: 10, applicationName: 'nbj-bench' })
  const secret = randomBytes(32).toString('hex')
  // BullMQ's PostgreSQL backend always has a database here; its Redis backend needs a server.
  const bullmq: BullBackend[] = []
  if (await redisAvailable(args.redis)) bullmq.push({ kind: 'redis', url: args.redis })
  else notes.push(`BullMQ (Redis) not run: no Redis server answered at ${args.redis} (pass --redis URL to use another)`)
  bullmq.push({ kind: 'postgres', url: db.url })
  try {
    // Idle during the throughput runs: its handler skips notifications nobody waits for.
    const watcher = await JobWatcher.open(db.url)
    try {
      const worker = await startWorker({
        databaseUrl: db.url,
        queues: BENCH_QUEUES,
        secret,
        log: quietLog,
        realtimePort: 0,
        origins: [],
      })
      try {
        await step(
          `throughput (template, graphile-worker, ${bullmq.map((b) => b.kind).join(' and ')} BullMQ, pg-boss)`,
          () =>
            throughputScenario({
              url: db.url,
              pool,
              ...mode.throughput,
              bullmq,
              loadProbe: () => startDispatchSampler({ pool, watcher }),
            }),
        )
        await step('dispatch latency', async () => {
          // The throughput runs leave up to hundreds of thousands of dead rows behind: vacuum them
          // now, as before each throughput run, not by autovacuum while dispatch is timed.
          await quiesce(pool)
          return dispatchScenario({ pool, watcher, samples: mode.dispatchSamples })
        })
        await step('dispatch latency (BullMQ)', () =>
          bullDispatchScenario({ backends: bullmq, samples: mode.dispatchSamples }),
        )
        await step('progress latency', () =>
          progressScenario({ pool, watcher, port: worker.realtime.port!, secret, ...mode.progress }),
        )
        await step('cancel latency', () => cancelScenario({ pool, watcher, samples: mode.cancelSamples }))
        await step('progress overhead', () => overheadScenario({ pool, watcher, ...mode.overhead }))
      } finally {
        await worker.stop(2_000)
      }
      // The export runs in a worker process of its own, so the worker above is already stopped.
      await step('export (ExportQueue vs COPY)', () =>
        exportScenario({
          url: db.url,
          pool,
          watcher,
          largeCopies: mode.exportCopies,
          curveCopies: mode.exportCurveCopies,
        }),
      )
      await step('worker idle RSS (compiled vs tsx)', () => compiledWorkerScenario({ url: db.url }))
    } finally {
      await watcher.close()
    }
  } finally {
    await stopProducer(pool)
    await pool.end()
    await db.stop()
  }

  const seconds = (performance.now() - started) / 1000
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${process.platform}/${process.arch}, Node ${process.version}`
  console.log(`\nnpm run bench${args.quick ? ' -- --quick' : ''}: ${seconds.toFixed(1)} s on ${machine}`)
  console.log(`load average (1 min): ${loadBefore.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end\n`)
  console.log(formatTable(measurements))
  console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`)
  const missed = missedTargets(measurements)
  console.log(missed.length ? `\nTargets missed (findings, not failures): ${missed.join(', ')}` : '\nAll targets met.')
  await writeJson(args.json, measurements)
  const svg = args.json.replace(/(\.json)?$/, '.svg')
  const day = new Date().toISOString().slice(0, 10)
  await writeFile(svg, renderCharts(measurements, `${day}, ${args.quick ? 'quick' : 'full'} run, ${machine}`))
  console.log(`Wrote ${args.json} and ${svg}`)
  return failed ? 1 : 0
}

const code = await main().catch((err) => {
  console.error(`[bench] ${(err as Error).stack ?? err}`)
  return 1
})
process.exitCode = code
// Everything was stopped above; if a library still holds a handle, say which and exit anyway.
setTimeout(() => {
  console.warn(`[bench] still open after cleanup: ${process.getActiveResourcesInfo().join(', ')}`)
  process.exit(code)
}, 5_000).unref()
