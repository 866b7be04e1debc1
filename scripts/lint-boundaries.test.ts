/**
 * The tier boundaries of eslint.config.mjs, proven to fail: each case lints one import as if it
 * were written in the named file (nothing is written to disk) and expects `no-restricted-imports`.
 */
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: process.cwd() })

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const value = imported\n`, { filePath })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('the boundaries lint enforces', () => {
  it.each([
    ['workers/queues/new-queue.ts', "import { getViewer as imported } from '@/lib/request/viewer'"],
    ['workers/queues/new-queue.int.test.ts', "import { defineAction as imported } from '../../lib/request/action'"],
    ['scripts/new-script.ts', "import { getOperator as imported } from '@/lib/request/operator'"],
    ['lib/server/new-store.ts', "import { getViewer as imported } from '../request/viewer'"],
  ])('request-only code stays out of %s', async (file, source) => {
    expect(await restricted(file, source)).toEqual([expect.stringContaining('lib/request is request-only')])
  })

  it.each([
    ['lib/jobs/new-contract.ts', "import { JobTable as imported } from '@/app/_components/job-table'"],
    ['lib/client/new-hook.ts', "import { Dashboard as imported } from '../../app/_components/dashboard'"],
  ])('%s never imports app/', async (file, source) => {
    expect(await restricted(file, source)).toEqual([expect.stringContaining('never import app/')])
  })

  it.each([
    ['app/imports/page.tsx', "import { LoginForm as imported } from '@/app/admin/_components/login-form'"],
    ['app/emails/page.tsx', "import { LoginForm as imported } from '../admin/_components/login-form'"],
    [
      'app/imports/_components/imports.tsx',
      "import { JobDetails as imported } from '../../jobs/[jobId]/_components/job-details'",
    ],
  ])("%s does not reach into another route's _components/", async (file, source) => {
    expect(await restricted(file, source)).toEqual([expect.stringContaining('app/_components/')])
  })

  it.each([
    ['app/jobs/page.tsx', "import { JobTable as imported } from '@/app/_components/job-table'"],
    ['app/admin/login/page.tsx', "import { LoginForm as imported } from '../_components/login-form'"],
    ['app/admin/jobs/page.tsx', "import { getOperator as imported } from '@/lib/request/operator'"],
    ['lib/actions/new-action.ts', "import { defineAction as imported } from '@/lib/request/action'"],
  ])('%s may import what it shares or owns', async (file, source) => {
    expect(await restricted(file, source)).toEqual([])
  })
})
