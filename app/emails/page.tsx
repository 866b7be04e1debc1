import { DEFERRED_QUEUE } from '@/lib/jobs/deferred'
import { readForPage, webPool } from '@/lib/server/db'
import { listJobHistory, withoutOwners } from '@/lib/server/history'
import { webEnv } from '@/lib/server/env'
import { getViewer } from '@/lib/request/viewer'
import { LiveJobTable } from '@/app/_components/live-job-table'
import { RefreshWhenSettled } from './_components/refresh-when-settled'
import { DatabaseNotice } from '../_components/database-notice'
import { WelcomeForm } from './_components/welcome-form'

interface SentEmail {
  id: number
  to_address: string
  subject: string
  text_body: string
  transport: string
  sent_at: Date
}

/** How many welcome-email jobs the page lists. */
const EMAIL_JOBS = 10

/** The deferred-action example: send a welcome email, see the job and the message "sent". */
export default async function EmailsPage() {
  const viewer = await getViewer()
  const pool = webPool()
  const read = await readForPage(async () =>
    viewer
      ? Promise.all([
          listJobHistory(pool, { ownerId: viewer.id, filter: { queue: DEFERRED_QUEUE }, limit: EMAIL_JOBS }),
          pool.query<SentEmail>(
            'SELECT id, to_address, subject, text_body, transport, sent_at FROM app.sent_emails WHERE owner_id = $1 ORDER BY sent_at DESC LIMIT 20',
            [viewer.id],
          ),
        ])
      : null,
  )
  const [jobs, sent] = read.available && read.value ? read.value : [null, { rows: [] as SentEmail[] }]
  const initial = jobs ? withoutOwners(jobs) : undefined
  const recording = !webEnv().SMTP_URL
  return (
    <main className="page">
      <h1>Emails</h1>
      <p className="lede">
        A deferred action: the button stores a job and returns at once; the worker sends the email.
        {recording
          ? ' No SMTP_URL is set, so messages are recorded here instead of sent.'
          : ' Messages go out through SMTP_URL.'}
      </p>
      {!read.available && <DatabaseNotice />}
      <section className="card">
        <WelcomeForm />
      </section>
      <section className="card" aria-labelledby="email-jobs">
        <h2 id="email-jobs">Jobs</h2>
        {initial ? (
          <>
            <LiveJobTable filter={{ queue: DEFERRED_QUEUE, limit: EMAIL_JOBS }} initial={initial} />
            <RefreshWhenSettled queue={DEFERRED_QUEUE} limit={EMAIL_JOBS} initial={initial} />
          </>
        ) : (
          <p className="empty">No jobs match.</p>
        )}
      </section>
      <section className="card" aria-labelledby="sent-heading">
        <h2 id="sent-heading">Sent messages</h2>
        {sent.rows.length === 0 ? (
          <p className="empty">Nothing sent yet.</p>
        ) : (
          <ul className="messages" aria-label="Sent messages">
            {sent.rows.map((m) => (
              <li key={m.id}>
                <strong>{m.subject}</strong> to {m.to_address}{' '}
                <span className="muted">
                  ({m.transport}, {m.sent_at.toISOString().slice(11, 19)} UTC)
                </span>
                <pre>{m.text_body}</pre>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  )
}
