import { describe, expect, it } from 'vitest'
import { JobState, SETTLED_STATES, isCancellable, isSettled, stateLabel } from './job'

describe('stateLabel', () => {
  it.each([
    ['queued', false, 'Queued'],
    ['active', false, 'Running'],
    ['active', true, 'Cancelling'],
    ['completed', false, 'Completed'],
    ['failed', false, 'Failed'],
    ['cancelled', false, 'Cancelled'],
    ['cancelled', true, 'Cancelled'],
    ['completed', true, 'Completed'],
  ] as const)('shows a %s job (cancel requested: %s) as %j', (state, cancelRequested, label) => {
    expect(stateLabel({ state, cancelRequested })).toBe(label)
  })

  it('has a word for every state', () => {
    for (const state of JobState.options) expect(stateLabel({ state, cancelRequested: false })).toMatch(/^[A-Z][a-z]+$/)
  })
})

describe('isCancellable', () => {
  it('offers Cancel while a job is queued or running', () => {
    expect(isCancellable({ state: 'queued', cancelRequested: false })).toBe(true)
    expect(isCancellable({ state: 'active', cancelRequested: false })).toBe(true)
  })

  it('does not offer Cancel again once a running job is being cancelled', () => {
    expect(isCancellable({ state: 'active', cancelRequested: true })).toBe(false)
  })

  it('never offers Cancel for a settled job', () => {
    for (const state of SETTLED_STATES) {
      expect(isCancellable({ state, cancelRequested: false })).toBe(false)
      expect(isCancellable({ state, cancelRequested: true })).toBe(false)
    }
  })
})

describe('isSettled', () => {
  it('says completed, failed and cancelled are settled, queued and active are not', () => {
    expect(JobState.options.filter(isSettled)).toEqual(['completed', 'failed', 'cancelled'])
  })
})
