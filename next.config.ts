import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  // pg and pg-boss are Node libraries with optional native bits: load them at run time, never bundle them.
  serverExternalPackages: ['pg', 'pg-boss', 'pg-query-stream'],
  typedRoutes: false,
}

export default nextConfig
