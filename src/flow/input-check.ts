import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { HttpError } from '../http/index.ts'
import type { AnyFlow } from './flow.ts'

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>()

/**
 * Checks a run's input against the flow's input schema. Bad input fails before anything is
 * stored, as a 422 problem listing each violation with its JSON pointer (`/input/items/0/qty`).
 */
export function checkFlowInput(flow: AnyFlow, input: unknown): void {
  const schema = flow.input
  if (!schema) return
  let check = compiled.get(schema)
  if (!check) {
    check = TypeCompiler.Compile(schema)
    compiled.set(schema, check)
  }
  if (check.Check(input)) return
  const violations = [...check.Errors(input)].slice(0, 50).map((error) => ({
    pointer: `/input${error.path}`,
    message: error.message.charAt(0).toLowerCase() + error.message.slice(1),
  }))
  throw new HttpError(
    422,
    'KEEL_FLOW_INPUT',
    `flow "${flow.name}" does not accept this input: ${violations.map((v) => `${v.pointer} ${v.message}`).join('; ')}`,
    { violations },
  )
}
