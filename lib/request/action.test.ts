import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { defineAction, fieldErrors } from './action'

vi.mock('./viewer', () => ({ getViewer: async () => ({ id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa' }) }))

const Input = z.strictObject({ name: z.string().max(5).optional() })

describe('fieldErrors', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'reports an unknown %j key as an own field, without touching Object.prototype',
    (key) => {
      const input = JSON.parse(`{"${key}": {"polluted": true}, "name": "toolong"}`) as unknown
      const parsed = Input.safeParse(input)
      expect(parsed.success).toBe(false)
      const fields = fieldErrors(parsed.error!)
      expect(Object.keys(fields).sort()).toEqual([key, 'name'].sort())
      expect(Object.getOwnPropertyDescriptor(fields, key)?.value).toEqual(['Unknown field.'])
      expect(Object.getPrototypeOf(fields)).toBe(Object.prototype)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    },
  )
})

describe('defineAction', () => {
  afterEach(() => vi.restoreAllMocks())

  it.each<[string, unknown]>([
    ['a Map', new Map([['name', 'x']])],
    ['a Set', new Set(['name'])],
    ['a Date', new Date()],
    [
      'a FormData',
      (() => {
        const f = new FormData()
        f.set('name', 'x')
        return f
      })(),
    ],
    ['a URLSearchParams', new URLSearchParams('name=x')],
    [
      'a class instance',
      new (class Fields {
        name = 'x'
      })(),
    ],
    ['a typed array', new Uint8Array(4)],
  ])('answers VALIDATION naming "input" for %s, which zod would read as an object without fields', async (_, input) => {
    const body = vi.fn(async () => ({ ok: true as const, value: 1 }))
    const result = await defineAction(Input, body)(input)
    expect(result).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: expect.any(String), fields: { input: ['Expected an object of fields.'] } },
    })
    expect(body).not.toHaveBeenCalled()
  })

  it('names a field holding a promise (React decodes them in action arguments) instead of failing on it, and still checks the others', async () => {
    // A preprocess step hands the promise on, and zod's synchronous parse throws on a promise.
    const Preprocessed = z.strictObject({
      name: z.preprocess((v) => v, z.string().optional()),
      size: z.number().optional(),
    })
    expect(() => Preprocessed.safeParse({ name: Promise.resolve('x') })).toThrow()
    const action = defineAction(Preprocessed, async () => ({ ok: true as const, value: 1 }))
    expect(await action({ name: Promise.resolve('x') })).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: expect.any(String), fields: { name: ['Must be a value, not a promise.'] } },
    })
    expect(await action({ name: [{ deep: Promise.resolve('x') }], size: 'big', extra: 1 })).toMatchObject({
      ok: false,
      error: {
        code: 'VALIDATION',
        fields: { name: ['Must be a value, not a promise.'], size: [expect.any(String)], extra: ['Unknown field.'] },
      },
    })
    expect(
      ((await action(JSON.parse('{"__proto__": 1}') as unknown)) as { error: { fields: object } }).error.fields,
    ).toEqual(JSON.parse('{"__proto__": ["Unknown field."]}'))
    expect(await action([Promise.resolve(1)])).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', fields: { input: ['Must be a value, not a promise.'] } },
    })
    expect(await action(Promise.resolve({}))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', fields: { input: ['Expected an object of fields.'] } },
    })
  })

  it('accepts a plain object and one without a prototype (how some decoders build them)', async () => {
    const action = defineAction(Input, async (input) => ({ ok: true as const, value: input }))
    expect(await action({ name: 'x' })).toEqual({ ok: true, value: { name: 'x' } })
    expect(await action(Object.assign(Object.create(null) as object, { name: 'y' }))).toEqual({
      ok: true,
      value: { name: 'y' },
    })
  })

  it('turns an unexpected error into INTERNAL with a reference that is logged with the details, and nothing else', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const result = await defineAction(Input, async () => {
      throw Object.assign(new Error('column "payload" does not exist at /srv/app/lib/server/job-store.ts:12'), {
        code: '42703',
      })
    })({})
    expect(result.ok).toBe(false)
    if (result.ok) return
    const { code, message, ref, fields } = result.error
    expect(code).toBe('INTERNAL')
    expect(ref).toMatch(/^[0-9a-f]{8}$/)
    expect(message).toBe(`Something went wrong on our side (reference ${ref}).`)
    expect(fields).toBeUndefined()
    expect(JSON.stringify(result)).not.toMatch(/payload|job-store|\/srv|42703|Error/)
    expect(logged).toHaveBeenCalledWith(
      `[action] unexpected error [ref ${ref}]`,
      expect.objectContaining({ code: '42703' }),
    )
  })

  it('turns an unreachable database into UNAVAILABLE', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const result = await defineAction(Input, async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    })({})
    expect(result).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.any(String) } })
  })
})
