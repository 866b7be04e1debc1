/**
 * `next/headers` for integration tests that call Server Actions and route handlers directly:
 * `cookies()` answers with the session cookie the test chose, so each call runs as that viewer.
 * In the test file (vi.mock is hoisted, so `session` must be too):
 *
 *   const session = vi.hoisted(() => ({ cookie: undefined as string | undefined }))
 *   vi.mock('next/headers', async () => (await import('@/test/session-cookie')).sessionHeaders(session))
 */

/** The session cookie to send; `undefined` sends none. */
export interface SessionCookie {
  cookie: string | undefined
}

/** A `next/headers` module whose `cookies()` holds `session.cookie` as it is when called. */
export function sessionHeaders(session: SessionCookie) {
  return {
    // Read when called: an action calls cookies() synchronously when it starts, so concurrent calls
    // made right after setting `session.cookie` each keep their own viewer.
    cookies: async () => {
      const value = session.cookie
      return { get: (name: string) => (name === 'nbj_session' && value !== undefined ? { name, value } : undefined) }
    },
  }
}
