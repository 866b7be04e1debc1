'use client'
/** Shown when rendering a page failed. Next shows only a digest in production: log lookup by it. */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="page">
      <h1>Something went wrong</h1>
      <p role="alert">The page could not be shown{error.digest ? ` (reference ${error.digest})` : ''}.</p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </main>
  )
}
