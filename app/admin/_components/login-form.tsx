'use client'
import { useActionState } from 'react'
import { operatorSignIn } from '@/lib/actions/operator'

export function LoginForm() {
  const [error, action, pending] = useActionState(operatorSignIn, null)
  return (
    <form action={action} className="inline-form">
      <div className="field">
        <label htmlFor="password">Operator password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
      </div>
      <button type="submit" disabled={pending}>
        Sign in
      </button>
      <p role="alert" className="form-error">
        {error}
      </p>
    </form>
  )
}
