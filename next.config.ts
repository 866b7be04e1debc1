import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  // `npm run dev` and the e2e tests build into their own folders (NEXT_DIST_DIR), so a
  // production build never leaves `next dev` reloading against another build's output.
  distDir: process.env.NEXT_DIST_DIR || '.next',
  // pg and pg-boss are Node libraries with optional native bits: load them at run time, never bundle them.
  serverExternalPackages: ['pg', 'pg-boss', 'pg-query-stream'],
  typedRoutes: false,
}

export default nextConfig
