import type { Metadata } from 'next'
import Link from 'next/link'
import type { ReactNode } from 'react'
import { Providers } from './providers'
import './globals.css'

const description = 'Exports with live progress and cancel, on Next.js, pg-boss and socket.io.'

// The files are in public/. Social images need absolute URLs: Next resolves these against
// `metadataBase`, which defaults to the Vercel deployment URL there and to localhost elsewhere;
// set `metadataBase: new URL('https://your.domain')` here when you deploy elsewhere.
export const metadata: Metadata = {
  title: 'Background jobs',
  description,
  icons: { icon: { url: '/icon.svg', type: 'image/svg+xml' } },
  openGraph: {
    title: 'Background jobs',
    description,
    images: [{ url: '/og.png', width: 1200, height: 630, alt: 'Background jobs: a progress bar on a dark card' }],
  },
  twitter: { card: 'summary_large_image', images: ['/og.png'] },
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <nav aria-label="Main" className="nav">
          <Link href="/">Exports</Link>
          <Link href="/imports">Imports</Link>
          <Link href="/jobs">Job history</Link>
          <Link href="/emails">Emails</Link>
          <Link href="/admin/jobs" className="nav-end">
            Operators
          </Link>
        </nav>
        <Providers>{children}</Providers>
      </body>
    </html>
  )
}
