/**
 * `defineAction` for the operator view: the same validation, result shape and error handling, but
 * it requires a signed-in operator instead of a viewer (NOT_FOUND otherwise, so /admin reveals nothing).
 */
import { defineActionFor } from './action'
import { getOperator, type Operator } from './operator'

export const defineOperatorAction = defineActionFor<{ operator: Operator }>({
  identify: async () => {
    const operator = await getOperator()
    return operator && { operator }
  },
  refusal: 'Sign in as an operator first.',
  logTag: 'operator action',
})
