import { notFound } from 'next/navigation'
import { operatorViewEnabled } from '@/lib/server/operator'
import { LoginForm } from '../_components/login-form'

export default function OperatorLoginPage() {
  if (!operatorViewEnabled()) notFound()
  return (
    <main className="page">
      <h1>Operator sign-in</h1>
      <section className="card"><LoginForm /></section>
    </main>
  )
}
