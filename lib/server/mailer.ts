/**
 * Sends email through nodemailer. With `SMTP_URL` set, through that SMTP server; without it, a
 * recording transport builds the message and sends nothing. Either way the message is recorded
 * in `app.sent_emails`, which the /emails page lists, so the whole path is visible locally.
 */
import nodemailer from 'nodemailer'
import type { Queryable } from './db'
import { workerEnv } from './env'

export interface OutgoingEmail {
  to: string
  subject: string
  text: string
}

/** Sends `message` for the job `jobId` of `ownerId`; resolves with the transport's message id. Throws on SMTP errors. */
export async function sendEmail(
  db: Queryable,
  message: OutgoingEmail,
  context: { jobId: string; ownerId: string },
): Promise<string> {
  const { SMTP_URL: smtpUrl, MAIL_FROM: from } = workerEnv()
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : nodemailer.createTransport({ jsonTransport: true })
  const info = await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text })
  await db.query(
    `INSERT INTO app.sent_emails (job_id, owner_id, to_address, subject, text_body, message_id, transport)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      context.jobId,
      context.ownerId,
      message.to,
      message.subject,
      message.text,
      info.messageId ?? null,
      smtpUrl ? 'smtp' : 'recorded',
    ],
  )
  return info.messageId ?? ''
}
