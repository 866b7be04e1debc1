/**
 * Vitest global setup for integration tests: one PostgreSQL (DATABASE_URL's server, or the embedded
 * one), one migrated and seeded template database; each test file clones it (test/kit.ts).
 */
import type { TestProject } from 'vitest/node'
import { prepareDatabase } from '../scripts/database'

export const TEMPLATE_DATABASE = 'nbj_test_template'

export default async function setup(project: TestProject) {
  const db = await prepareDatabase({ purpose: 'test', database: TEMPLATE_DATABASE, fresh: true, setup: true })
  project.provide('serverUrl', db.serverUrl)
  return async () => {
    await db.stop()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string
  }
}
