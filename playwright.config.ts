/**
 * End-to-end tests: the production build of the web tier, the worker (queues + realtime) and a
 * real Chromium. Run through `npm run test:e2e`, which prepares a fresh database and sets
 * DATABASE_URL. Ports 3100 (web) and 3101 (realtime) keep clear of `npm run dev`.
 */
import { chromium, defineConfig, devices } from '@playwright/test'
import { existsSync } from 'node:fs'

// E2E_WEB_PORT / E2E_REALTIME_PORT let two runs share a machine.
const WEB_PORT = Number(process.env.E2E_WEB_PORT || 3100)
const REALTIME_PORT = Number(process.env.E2E_REALTIME_PORT || 3101)
// The web process e2e/web-process.spec.ts starts and stops itself.
const SPARE_WEB_PORT = Number(process.env.E2E_SPARE_WEB_PORT || WEB_PORT + 2)

// Playwright's own Chromium where installed; otherwise the system one (Debian: apt-get install chromium).
const bundled = (() => {
  try {
    return chromium.executablePath()
  } catch {
    return ''
  }
})()
const executablePath = process.env.CHROMIUM_PATH || (bundled && existsSync(bundled) ? undefined : '/usr/bin/chromium')

const env = {
  ...(process.env as Record<string, string>),
  NODE_ENV: 'production',
  // Its own build folder: `npm test` never disturbs a `.next` of `npm run build` or `npm run dev`.
  NEXT_DIST_DIR: '.next-e2e',
  SESSION_SECRET: process.env.SESSION_SECRET ?? 'e2e-only-secret-e2e-only-secret-e2e-only-secret',
  REALTIME_PORT: String(REALTIME_PORT),
  REALTIME_URL: `http://localhost:${REALTIME_PORT}`,
  APP_ORIGIN: `http://localhost:${WEB_PORT},http://localhost:${SPARE_WEB_PORT}`,
  // Slow exports down enough that a person (and a test) can watch one run and cancel it.
  EXPORT_ROWS_PER_SECOND: '20000',
  // Small enough that e2e/imports.spec.ts can send a file over the import size limit quickly.
  IMPORT_MAX_BYTES: String(3 * 1024 * 1024),
  // Slow imports down too, so one can be watched and cancelled mid-way.
  IMPORT_ROWS_PER_SECOND: '5000',
  // Turns the operator view on (e2e/history.spec.ts signs in with it).
  ADMIN_PASSWORD: 'e2e-operator-password',
}

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${WEB_PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: [
    {
      // The web server's output is also kept in .data/e2e-web.log (or E2E_WEB_LOG): e2e/security.spec.ts
      // finds the reference id of an INTERNAL answer there, as an operator would in production logs.
      command: `npx next build && mkdir -p .data && npx next start -p ${WEB_PORT} 2>&1 | tee ${process.env.E2E_WEB_LOG ?? '.data/e2e-web.log'}`,
      url: `http://localhost:${WEB_PORT}/api/health`,
      env,
      // A production build takes minutes on a small, busy machine (2 cores shared by parallel runs).
      timeout: 600_000,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      command: 'npx tsx workers/main.ts',
      url: `http://localhost:${REALTIME_PORT}/health`,
      env,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
  ],
})
