import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { ok } from '@/lib/jobs/result'
import { defineOperatorAction } from './operator-action'

const operator = vi.hoisted(() => ({ current: null as { id: string } | null }))
vi.mock('./operator', () => ({ getOperator: async () => operator.current }))
vi.mock('./viewer', () => ({ getViewer: async () => ({ id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa' }) }))

const echo = defineOperatorAction(z.strictObject({ n: z.number() }), async ({ n }, context) =>
  ok({ n, by: context.operator.id }),
)

afterEach(() => {
  operator.current = null
  vi.restoreAllMocks()
})

describe('defineOperatorAction', () => {
  it('answers NOT_FOUND to anyone who is not a signed-in operator, even with a viewer session', async () => {
    expect(await echo({ n: 1 })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Sign in as an operator first.' },
    })
  })

  it('runs the body for an operator, after the same validation as a viewer’s action', async () => {
    operator.current = { id: 'op-1' }
    expect(await echo({ n: 1 })).toEqual({ ok: true, value: { n: 1, by: 'op-1' } })
    expect(await echo({ n: 'one' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', fields: { n: [expect.any(String)] } },
    })
  })

  it('answers an unexpected error with INTERNAL and a reference logged as an operator action', async () => {
    operator.current = { id: 'op-1' }
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const result = await defineOperatorAction(z.strictObject({}), async () => {
      throw new Error('secret detail')
    })({})
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'INTERNAL',
        message: expect.stringMatching(/^Something went wrong on our side \(reference [0-9a-f]{8}\)\.$/),
        ref: expect.any(String),
      },
    })
    expect(JSON.stringify(result)).not.toContain('secret detail')
    expect(logged).toHaveBeenCalledWith(
      expect.stringMatching(/^\[operator action\] unexpected error \[ref [0-9a-f]{8}\]$/),
      expect.any(Error),
    )
  })
})
