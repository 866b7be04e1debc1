import { describe, expect, it } from 'vitest'
import { backoffSeconds, CLIENT_RULE, clientAddress, GLOBAL_RULE } from './login-throttle'

describe('clientAddress', () => {
  const headers = (xff?: string) => new Headers(xff === undefined ? {} : { 'x-forwarded-for': xff })

  it('ignores x-forwarded-for unless a proxy of ours is trusted to write it', () => {
    expect(clientAddress(headers('203.0.113.7'), 0)).toBe('client:unknown')
  })

  it('takes the address the outermost trusted proxy saw, not what the client prepended', () => {
    expect(clientAddress(headers('1.2.3.4, 203.0.113.7'), 1)).toBe('client:203.0.113.7')
    expect(clientAddress(headers('1.2.3.4, 203.0.113.7, 10.0.0.2'), 2)).toBe('client:203.0.113.7')
    expect(clientAddress(headers('2001:db8::1'), 1)).toBe('client:2001:db8::1')
  })

  it('falls back to one shared key when the header is missing, short or not an address', () => {
    expect(clientAddress(headers(), 1)).toBe('client:unknown')
    expect(clientAddress(headers('203.0.113.7'), 2)).toBe('client:unknown')
    expect(clientAddress(headers('not-an-address'), 1)).toBe('client:unknown')
  })
})

describe('backoffSeconds', () => {
  it('lets a client try 5 times, then doubles its wait from 10 s up to 15 minutes', () => {
    expect([1, 4, 5, 6, 7, 20].map((n) => backoffSeconds(CLIENT_RULE, n))).toEqual([0, 0, 10, 20, 40, 900])
  })

  it('caps the global wait at 60 s, since it also stops the real operator', () => {
    expect([49, 50, 51, 60].map((n) => backoffSeconds(GLOBAL_RULE, n))).toEqual([0, 5, 10, 60])
  })
})
