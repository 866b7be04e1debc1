import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { alias: { '@': fileURLToPath(new URL('.', import.meta.url)) } },
  test: {
    // expect.poll waits for a state no event announces; its default (1 s) is a single stall of a
    // busy 2-core machine, so it gets an honest margin. A poll that succeeds returns at once.
    expect: { poll: { timeout: 15_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{app,lib,workers,scripts}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**'],
          // Property tests run hundreds of cases: well under a second idle, several on a busy
          // 2-core machine, where vitest's 5 s default failed them.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{app,lib,workers,scripts,test}/**/*.int.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/env-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each file gets its own database; two files at once fit in two cores.
          maxWorkers: 2,
        },
      },
    ],
  },
})
