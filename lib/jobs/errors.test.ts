import { describe, expect, it } from 'vitest'
import {
  ACTION_ERROR_CODES,
  errorRef,
  JOB_ERROR_MESSAGES,
  JobError,
  JobErrorCode,
  jobError,
  jobErrorText,
  type ActionErrorCode,
} from './errors'
import { fail } from './result'

describe('the error vocabulary is closed', () => {
  it('refuses an unknown code, at compile time and when a stored job error is read', () => {
    // @ts-expect-error an action answers only with the codes of ACTION_ERROR_CODES
    const actionCode: ActionErrorCode = 'TEAPOT'
    // @ts-expect-error the same for fail()
    fail('TEAPOT', 'No.')
    // @ts-expect-error a job fails only with the codes of JOB_ERROR_MESSAGES
    const jobCode: JobErrorCode = 'HANDLER_ERROR'
    // @ts-expect-error only FAILED carries the handler's own words
    jobError('EXCEPTION', { message: 'The stack trace, say.' })
    expect(ACTION_ERROR_CODES).not.toContain(actionCode)
    expect(JobErrorCode.options).not.toContain(jobCode)
    expect(JobError.safeParse({ code: 'HANDLER_ERROR', message: 'boom' }).success).toBe(false)
  })

  it('has every code a job fails with today, INTERRUPTED included', () => {
    expect([...JobErrorCode.options].sort()).toEqual(
      ['EXCEPTION', 'EXPIRED', 'FAILED', 'INTERRUPTED', 'INVALID_PAYLOAD', 'JOB_LOST', 'WORKER_LOST'].sort(),
    )
  })
})

describe('a failed job shows one message per code', () => {
  it.each(JobErrorCode.options.filter((code) => code !== 'FAILED'))('%s always reads the same', (code) => {
    const error = jobError(code, { ref: 'ab12cd34' })
    expect(error).toEqual({ code, message: JOB_ERROR_MESSAGES[code], ref: 'ab12cd34' })
    expect(jobError(code)).toEqual({ code, message: JOB_ERROR_MESSAGES[code] })
  })

  it('gives each code its own words, so a message says which failure it was', () => {
    const messages = Object.values(JOB_ERROR_MESSAGES)
    expect(new Set(messages).size).toBe(messages.length)
  })

  it('shows the words a handler failed a job with, and its code’s message when it gave none', () => {
    expect(jobError('FAILED', { message: 'The input had no rows.' })).toEqual({
      code: 'FAILED',
      message: 'The input had no rows.',
    })
    expect(jobError('FAILED', { message: '' }).message).toBe(JOB_ERROR_MESSAGES.FAILED)
  })

  it('reads as one line with its reference', () => {
    expect(jobErrorText(jobError('EXCEPTION', { ref: 'ab12cd34' }))).toBe(
      'The job failed unexpectedly. (reference ab12cd34)',
    )
    expect(jobErrorText(jobError('JOB_LOST'))).toBe(JOB_ERROR_MESSAGES.JOB_LOST)
  })
})

describe('errorRef', () => {
  it('is 8 lowercase hex characters, new each time', () => {
    const refs = Array.from({ length: 100 }, errorRef)
    for (const ref of refs) expect(ref).toMatch(/^[0-9a-f]{8}$/)
    expect(new Set(refs).size).toBe(refs.length)
  })
})
