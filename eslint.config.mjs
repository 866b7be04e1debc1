// Lint rules for the whole repo. The restricted-import blocks below enforce the tier boundaries
// described in README "Where to look": change them only together with the folder layout.
// ESLint keeps only the last `no-restricted-imports` setting that matches a file, so each block
// lists every pattern its files must obey (built from the named patterns below), most general first.
import { defineConfig, globalIgnores } from 'eslint/config'
import nextVitals from 'eslint-config-next/core-web-vitals'
import nextTs from 'eslint-config-next/typescript'

const noWorkers = {
  group: ['@/workers', '@/workers/*', '**/workers', '**/workers/*'],
  message: 'The web tier never imports workers/: share contracts through lib/jobs.',
}
const noApp = {
  group: ['@/app', '@/app/*', '**/app', '**/app/*'],
  message: 'lib/, workers/ and scripts/ never import app/: move what they share into lib/.',
}
const noRequest = {
  group: ['@/lib/request', '@/lib/request/*', '**/lib/request', '**/lib/request/*', '../request', '../request/*'],
  message:
    'lib/request is request-only (next/headers): only app/, lib/actions and proxy.ts may import it. Put code both tiers need in lib/server.',
}
const noServer = {
  group: ['@/lib/server/*', '**/lib/server/*'],
  message: 'lib/server touches secrets and Postgres: client code must not import it.',
}
const noDatabase = { group: ['pg', 'pg-boss'], message: 'Database clients are server-only.' }
const noNext = { group: ['next', 'next/*'], message: 'The worker is a plain Node process: it never imports next.' }
// A route's `_components/` is private to it: imported downwards (`./_components/x`) or from an
// ancestor's (`../_components/x`), never through `@/app/<route>/...` or sideways into another route.
const noOtherRoutesPrivate = {
  regex: String.raw`^(@/app/.+/|(\.\./)*\.\.?/([^./][^/]*/)+)_components(/|$)`,
  message: "Another route's _components/ is private to it: move what both routes use into app/_components/.",
}

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    '.next/**',
    '.next-dev/**',
    '.next-e2e/**',
    '.data/**',
    'node_modules/**',
    'next-env.d.ts',
    'test-results/**',
    'playwright-report/**',
    'dist/**',
  ]),
  {
    // Routes: the web tier only produces jobs; each route keeps to its own private folders.
    files: ['app/**', 'proxy.ts'],
    rules: restrict(noWorkers, noOtherRoutesPrivate),
  },
  {
    // Shared code never reaches up into routes.
    files: ['lib/**'],
    rules: restrict(noWorkers, noApp),
  },
  {
    // Code the worker also loads must not pull in request-only code (lib/request uses next/headers).
    files: ['lib/**'],
    ignores: ['lib/request/**', 'lib/actions/**'],
    rules: restrict(noWorkers, noApp, noRequest),
  },
  {
    // Client code must never pull in secrets, pg or pg-boss.
    files: ['lib/client/**'],
    rules: restrict(noServer, noRequest, noWorkers, noDatabase, noApp),
  },
  {
    files: ['app/**/_components/**', 'app/providers.tsx'],
    rules: restrict(noServer, noRequest, noWorkers, noDatabase, noOtherRoutesPrivate),
  },
  {
    // One env module: everything the product reads from the environment is parsed (and documented) there.
    files: ['app/**', 'lib/**', 'workers/**', 'scripts/**', 'proxy.ts', 'next.config.ts'],
    ignores: ['lib/server/env.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read the environment through lib/server/env.ts (webEnv, workerEnv or toolingEnv), never process.env.',
        },
      ],
    },
  },
  {
    // The worker is a plain Node process: no Next.js, no app routes, no request-only code.
    files: ['workers/**'],
    rules: restrict(noNext, noApp, noRequest),
  },
  {
    // Scripts and the bench run in plain Node too.
    files: ['scripts/**', 'bench/**'],
    rules: restrict(noApp, noRequest),
  },
])
