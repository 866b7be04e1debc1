import { connection } from 'next/server'
import { operatorViewEnabled } from '@/lib/request/operator'
import { LoginForm } from '../_components/login-form'

export default async function OperatorLoginPage() {
  // Decided per request: ADMIN_PASSWORD is read at run time, not frozen into the build.
  await connection()
  return (
    <main className="page">
      <h1>Operator sign-in</h1>
      <section className="card">
        {operatorViewEnabled() ? (
          <LoginForm />
        ) : (
          <p>
            The operator view is off. Set <code>ADMIN_PASSWORD</code> (at least 12 characters) on the web tier to turn
            it on.
          </p>
        )}
      </section>
    </main>
  )
}
