/**
 * The bench's output: one row per figure, the targets from issue 4 beside them, a printed table
 * and the JSON file. Add a target here when you add a figure; the scenarios never print.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * One figure, exactly as written to the JSON file. `ratio` is `value / baselineValue`, both measured
 * in the same run; `baseline`, `baselineValue` and `ratio` are `null` when the figure has no baseline.
 */
export interface Measurement {
  name: string
  value: number
  unit: string
  baseline: string | null
  baselineValue: number | null
  ratio: number | null
}

/** What a scenario hands back: its figures and the caveats a reader needs to interpret them. */
export interface ScenarioResult {
  measurements: Measurement[]
  notes: string[]
}

interface Target {
  /** Which column the target applies to. */
  on: 'value' | 'ratio'
  op: '<=' | '>='
  limit: number
}

/** The targets of issues 4 and 12, by figure name. */
const TARGETS: Record<string, Target> = {
  'throughput.noop.vs_graphile': { on: 'ratio', op: '>=', limit: 1.0 },
  'throughput.noop.vs_bullmq_pg': { on: 'ratio', op: '>=', limit: 1.0 },
  'throughput.noop.flat': { on: 'ratio', op: '>=', limit: 0.8 },
  // Issue 12 tightened issue 4's 3 / 10 ms.
  'latency.dispatch.p50': { on: 'value', op: '<=', limit: 2 },
  'latency.dispatch.p99': { on: 'value', op: '<=', limit: 8 },
  'latency.progress.p50': { on: 'value', op: '<=', limit: 5 },
  'latency.progress.p99': { on: 'value', op: '<=', limit: 25 },
  'progress.delivered': { on: 'value', op: '>=', limit: 1 },
  'latency.cancel.p50': { on: 'value', op: '<=', limit: 100 },
  'latency.cancel.p99': { on: 'value', op: '<=', limit: 250 },
  'export.rows_per_s': { on: 'ratio', op: '>=', limit: 0.5 },
  'export.rows_per_s.large': { on: 'ratio', op: '>=', limit: 0.5 },
  'export.peak_rss_mb': { on: 'value', op: '<=', limit: 150 },
  'export.peak_rss_over_idle_mb': { on: 'value', op: '<=', limit: 30 },
  'progress.overhead': { on: 'ratio', op: '<=', limit: 1.1 },
  'progress.overhead.export': { on: 'ratio', op: '<=', limit: 1.1 },
}

/** A figure without a baseline. */
export function figure(name: string, value: number, unit: string): Measurement {
  return { name, value, unit, baseline: null, baselineValue: null, ratio: null }
}

/** A figure next to the same quantity measured on `baseline` in the same run. */
export function compared(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
): Measurement {
  return { name, value, unit, baseline, baselineValue, ratio: baselineValue > 0 ? value / baselineValue : null }
}

/** Nearest-rank percentile (`p` in 0..1) of `samples`; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** Median of `samples`. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5)
}

function formatNumber(n: number | null): string {
  if (n === null) return '-'
  if (!Number.isFinite(n)) return String(n)
  const abs = Math.abs(n)
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US')
  if (abs >= 100) return n.toFixed(0)
  if (abs >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

function checkTarget(m: Measurement): { text: string; met: string } {
  const target = TARGETS[m.name]
  if (!target) return { text: '', met: '' }
  const actual = target.on === 'ratio' ? m.ratio : m.value
  const text = `${target.on === 'ratio' ? 'ratio ' : ''}${target.op} ${target.limit}`
  if (actual === null || !Number.isFinite(actual)) return { text, met: '?' }
  const met = target.op === '<=' ? actual <= target.limit : actual >= target.limit
  return { text, met: met ? 'yes' : 'NO' }
}

/** The table printed at the end of a run: one line per figure, targets and whether each was met. */
export function formatTable(measurements: readonly Measurement[]): string {
  const header = ['name', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'target', 'met?']
  const rows = measurements.map((m) => {
    const target = checkTarget(m)
    return [
      m.name,
      formatNumber(m.value),
      m.unit,
      m.baseline ?? '-',
      formatNumber(m.baselineValue),
      m.ratio === null ? '-' : m.ratio.toFixed(2),
      target.text,
      target.met,
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  // Numbers read best right-aligned; text left-aligned.
  const numeric = new Set([1, 4, 5])
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Names of the figures that missed their target. */
export function missedTargets(measurements: readonly Measurement[]): string[] {
  return measurements.filter((m) => checkTarget(m).met === 'NO').map((m) => m.name)
}

/** Writes the figures as a JSON list to `file`, creating its folder. */
export async function writeJson(file: string, measurements: readonly Measurement[]): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true })
  await writeFile(file, `${JSON.stringify(measurements, null, 2)}\n`)
}
