/**
 * The scaling curves as one plain SVG file (no dependencies, readable on GitHub): throughput against
 * backlog per system, dispatch latency under that backlog, export time and the worker's peak RSS
 * against row count. Built only from the `curve.*` figures, so a chart always matches the JSON beside it.
 */
import type { Measurement } from './report'

interface Series {
  label: string
  color: string
  /** Points by x value (backlog size or row count); missing x values leave a gap. */
  points: Map<number, number>
  dashed?: boolean
}

interface Panel {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
}

const PANEL_W = 460
const PANEL_H = 280
const MARGIN = { top: 34, right: 16, bottom: 44, left: 64 }
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2']

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Short axis label: 2,000 -> 2k, 1,352,330 -> 1.35M. */
function short(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`
  return Number(n.toPrecision(3)).toString()
}

/** A tick step of 1, 2 or 5 times a power of ten giving about five ticks up to `max`. */
function tickStep(max: number): number {
  const raw = max / 5
  const power = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((k) => k * power).find((s) => s >= raw)!
}

/**
 * One chart at (x0, y0): x positions are the distinct x values, evenly spaced (the points grow tenfold,
 * so this reads as a log scale without pretending to be one); y is linear from 0.
 */
function renderPanel(panel: Panel, x0: number, y0: number): string {
  const xs = [...new Set(panel.series.flatMap((s) => [...s.points.keys()]))].sort((a, b) => a - b)
  const w = PANEL_W - MARGIN.left - MARGIN.right
  const h = PANEL_H - MARGIN.top - MARGIN.bottom
  const out: string[] = [`<g transform="translate(${x0},${y0})">`]
  out.push(`<text x="${PANEL_W / 2}" y="18" text-anchor="middle" font-weight="600">${escape(panel.title)}</text>`)
  if (xs.length === 0) {
    out.push(
      `<text x="${PANEL_W / 2}" y="${PANEL_H / 2}" text-anchor="middle" fill="#6b7280">not measured in this run</text></g>`,
    )
    return out.join('')
  }
  const maxY = Math.max(...panel.series.flatMap((s) => [...s.points.values()]), 0) || 1
  const step = tickStep(maxY)
  const top = Math.ceil((maxY * 1.05) / step) * step
  const px = (x: number) => MARGIN.left + (xs.length === 1 ? w / 2 : (xs.indexOf(x) / (xs.length - 1)) * w)
  const py = (y: number) => MARGIN.top + h - (y / top) * h
  for (let y = 0; y <= top + step / 2; y += step) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e7eb"/>`)
    out.push(`<text x="${MARGIN.left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${short(y)}</text>`)
  }
  for (const x of xs) {
    out.push(`<text x="${px(x)}" y="${MARGIN.top + h + 16}" text-anchor="middle" font-size="11">${short(x)}</text>`)
  }
  out.push(
    `<text x="${MARGIN.left + w / 2}" y="${PANEL_H - 8}" text-anchor="middle" font-size="11">${escape(panel.xLabel)}</text>`,
  )
  out.push(
    `<text transform="translate(14,${MARGIN.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escape(panel.yLabel)}</text>`,
  )
  panel.series.forEach((s, i) => {
    const pts = xs.filter((x) => s.points.has(x)).map((x) => `${px(x)},${py(s.points.get(x)!)}`)
    if (pts.length > 1)
      out.push(
        `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
      )
    for (const p of pts) {
      const [cx, cy] = p.split(',')
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`)
    }
    const ly = MARGIN.top + 4 + i * 14
    out.push(
      `<line x1="${MARGIN.left + 8}" x2="${MARGIN.left + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
    )
    out.push(`<text x="${MARGIN.left + 28}" y="${ly + 4}" font-size="11">${escape(s.label)}</text>`)
  })
  out.push('</g>')
  return out.join('\n')
}

/** `curve.<what>.<x>` figures whose name starts with `prefix`, by x. */
function pointsOf(measurements: readonly Measurement[], prefix: string): Map<number, number> {
  const points = new Map<number, number>()
  for (const m of measurements) {
    if (!m.name.startsWith(`${prefix}.`)) continue
    const x = Number(m.name.slice(prefix.length + 1))
    if (Number.isFinite(x) && Number.isFinite(m.value)) points.set(x, m.value)
  }
  return points
}

const SYSTEMS = [
  ['template', 'template'],
  ['graphile', 'graphile-worker'],
  ['bullmq_redis', 'BullMQ (Redis)'],
  ['bullmq_pg', 'BullMQ (PostgreSQL)'],
  ['pgboss', 'pg-boss work()'],
] as const

/** The SVG document for `measurements`; `caption` (date, machine, mode) is printed under the title. */
export function renderCharts(measurements: readonly Measurement[], caption: string): string {
  const series = (entries: [string, string][]) =>
    entries
      .map(([prefix, label], i) => ({
        label,
        color: PALETTE[i % PALETTE.length]!,
        points: pointsOf(measurements, prefix),
      }))
      .filter((s) => s.points.size > 0)
  const panels: Panel[] = [
    {
      title: 'No-op throughput against backlog',
      xLabel: 'jobs queued per run',
      yLabel: 'jobs/s (concurrency 10)',
      series: series(SYSTEMS.map(([key, label]) => [`curve.throughput.${key}`, label])),
    },
    {
      title: 'Template dispatch latency under that backlog',
      xLabel: 'jobs queued on another queue',
      yLabel: 'ms, enqueue to handler start',
      series: series([
        ['curve.dispatch_under_load.p50', 'p50'],
        ['curve.dispatch_under_load.p99', 'p99'],
      ]),
    },
    {
      title: 'Export time against rows',
      xLabel: 'rows exported',
      yLabel: 'seconds',
      series: series([
        ['curve.export.seconds', 'ExportQueue (enqueue to completed)'],
        ['curve.copy.seconds', 'COPY TO STDOUT (raw)'],
      ]),
    },
    {
      title: 'Export worker peak RSS against rows',
      xLabel: 'rows exported',
      yLabel: 'MB',
      series: series([['curve.export.peak_rss_mb', 'worker process (ExportQueue only)']]),
    },
  ]
  const width = PANEL_W * 2
  const height = PANEL_H * 2 + 56
  const body = panels.map((p, i) => renderPanel(p, (i % 2) * PANEL_W, 56 + Math.floor(i / 2) * PANEL_H)).join('\n')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="700">npm run bench: scaling curves</text>`,
    `<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#4b5563">${escape(caption)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n')
}
