// Lint rules for the whole repo. The restricted-import blocks below enforce the tier boundaries
// described in README "Where to look": change them only together with the folder layout.
import { defineConfig, globalIgnores } from 'eslint/config'
import nextVitals from 'eslint-config-next/core-web-vitals'
import nextTs from 'eslint-config-next/typescript'

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
    // The web tier only produces jobs: it never imports the worker tier.
    files: ['app/**', 'lib/**', 'proxy.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/workers/*', '**/workers/*'],
              message: 'The web tier never imports workers/: share contracts through lib/jobs.',
            },
          ],
        },
      ],
    },
  },
  {
    // Client code must never pull in secrets, pg or pg-boss.
    files: ['lib/client/**', 'app/**/_components/**', 'app/providers.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/lib/server/*', '**/lib/server/*'],
              message: 'lib/server touches secrets and Postgres: client code must not import it.',
            },
            { group: ['@/workers/*', '**/workers/*'], message: 'The web tier never imports workers/.' },
            { group: ['pg', 'pg-boss'], message: 'Database clients are server-only.' },
          ],
        },
      ],
    },
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
    // The worker is a plain Node process: no Next.js, no app routes.
    files: ['workers/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['next', 'next/*', '@/app/*', '**/app/*'],
              message: 'workers/ never imports next or app/: share contracts through lib/jobs.',
            },
          ],
        },
      ],
    },
  },
])
