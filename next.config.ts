import type { NextConfig } from 'next'
import { toolingEnv } from './lib/server/env'

const nextConfig: NextConfig = {
  // `npm run dev` and the e2e tests build into their own folders (NEXT_DIST_DIR), so a
  // production build never leaves `next dev` reloading against another build's output.
  distDir: toolingEnv().NEXT_DIST_DIR,
  // pg and pg-boss are Node libraries with optional native bits: load them at run time, never bundle them.
  serverExternalPackages: ['pg', 'pg-boss', 'pg-query-stream'],
  typedRoutes: false,
  // The build type-checks the web tier only (app/, lib/, proxy.ts; no tests), so `next build` works with
  // production dependencies alone; `npm run typecheck` still checks every file, tests included.
  typescript: { tsconfigPath: 'tsconfig.web.json' },
}

export default nextConfig
