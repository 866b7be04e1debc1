/** Body of the `send_welcome_email` deferred action (contract in lib/jobs/deferred.ts). */
import { sendWelcomeEmail } from '@/lib/jobs/deferred'
import { sendEmail } from '@/lib/server/mailer'
import { deferredHandler } from './deferred-handler'

export const sendWelcomeEmailHandler = deferredHandler(
  sendWelcomeEmail,
  async ({ email }, { pool, jobId, ownerId }) => {
    const messageId = await sendEmail(
      pool,
      {
        to: email,
        subject: 'Welcome!',
        text: `Hello,\n\nthanks for trying the background jobs template. This message was sent by a deferred action (job ${jobId}).\n`,
      },
      { jobId, ownerId },
    )
    return { messageId }
  },
)
