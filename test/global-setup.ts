/**
 * Vitest global setup for integration tests: one PostgreSQL (DATABASE_URL's server, or the embedded
 * one), one migrated and seeded template database; each test file clones it (test/kit.ts).
 */
import type { TestProject } from 'vitest/node'
import { dropDatabase, prepareDatabase } from '../scripts/database'

export default async function setup(project: TestProject) {
  // One template per run, so two runs against the same server never drop each other's.
  const template = `nbj_test_template_${process.pid}`
  const db = await prepareDatabase({ purpose: 'test', database: template, fresh: true, setup: true })
  project.provide('serverUrl', db.serverUrl)
  project.provide('templateDatabase', template)
  return async () => {
    await dropDatabase(db.serverUrl, template)
    await db.stop()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string
    templateDatabase: string
  }
}
