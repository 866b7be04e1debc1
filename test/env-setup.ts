/**
 * Vitest setup for integration tests, run in each test process before its files. The worker and web
 * code they run in-process read their settings through lib/server/env.ts, whose schemas require
 * DATABASE_URL; unless the run was given one, it names the test server (each test still passes its
 * own database's URL to what it starts).
 */
import { inject } from 'vitest'

process.env.DATABASE_URL ||= inject('serverUrl')
