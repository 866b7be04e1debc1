/**
 * `npm run build` (after `next build`): compiles the worker tier to plain JavaScript in dist/worker,
 * so a worker host runs `node dist/worker/main.js` with production dependencies only.
 * Change the entry points or output folder here; why a bundle and not Node's type stripping:
 * docs/decisions/006-compiled-worker.md. Plain JavaScript on purpose: it runs before anything is compiled.
 */
import { build } from 'esbuild'
import { cp, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
// `--entry` and `--outdir` build another worker entry the same way (the bench's export worker).
const { values: args } = parseArgs({
  options: {
    entry: { type: 'string', default: 'workers/main.ts' },
    outdir: { type: 'string', default: 'dist/worker' },
  },
})
const outdir = `${root}${args.outdir}`
const name = args.entry.replace(/^.*\//, '').replace(/\.ts$/, '')

await rm(outdir, { recursive: true, force: true })
const result = await build({
  absWorkingDir: root,
  entryPoints: { [name]: args.entry },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22.12',
  // Our own code (workers/, lib/, the `@/*` alias from tsconfig.json) goes into the bundle; every
  // package stays an import resolved from node_modules at run time, exactly the versions npm ci installed.
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
})
// workers/migrate.ts finds its SQL files next to itself (`new URL('./migrations', import.meta.url)`):
// next to the bundle, that is dist/worker/migrations.
await cp(`${root}workers/migrations`, `${outdir}/migrations`, { recursive: true })

const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
console.log(
  `worker built: ${args.outdir}/${name}.js (${(bytes / 1024).toFixed(0)} KiB with its source map, migrations copied)`,
)
