import type { Metadata } from 'next'
import Link from 'next/link'
import type { ReactNode } from 'react'
import { Providers } from './providers'
import './globals.css'

export const metadata: Metadata = {
  title: 'Background jobs',
  description: 'Exports with live progress and cancel, on Next.js, pg-boss and socket.io.',
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
