import { Kind, type TObject, type TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import type { Violation } from './http-error.ts'

/** One part of a request (`params`, `query`, `headers`, `body`) with its compiled check. */
export interface PartValidator {
  readonly part: 'params' | 'query' | 'headers' | 'body'
  /** Coerces (strings to numbers, booleans, arrays) and checks; returns the typed value or violations. */
  validate(value: unknown): { value: unknown } | { violations: Violation[] }
}

/**
 * Compiles a validator for a request part. Values that arrive as strings (params, query,
 * headers) are coerced to the schema's types first, and only when the schema has non-string
 * members, so all-string schemas pay nothing for it.
 */
export function compilePart(part: PartValidator['part'], schema: TSchema, closed: boolean): PartValidator {
  const effective = closed ? closeObjects(schema) : schema
  const check: TypeCheck<TSchema> = TypeCompiler.Compile(effective)
  const coerces = part !== 'body' && hasNonString(effective)
  return {
    part,
    validate(value) {
      const candidate = coerces ? Value.Convert(effective, value) : value
      if (check.Check(candidate)) return { value: candidate }
      const violations: Violation[] = []
      const seen = new Set<string>()
      for (const error of check.Errors(candidate)) {
        const pointer = `/${part}${error.path}`
        if (seen.has(pointer)) continue
        seen.add(pointer)
        violations.push({ pointer, message: describe(error.message, error.path, error.schema) })
        if (violations.length >= 50) break
      }
      return { violations }
    },
  }
}

function describe(message: string, path: string, schema: TSchema): string {
  if (message === 'Unexpected property')
    return `unknown ${path.includes('/') ? 'field' : 'value'}: not declared by the schema`
  if (message.startsWith('Expected required property')) return 'is required'
  const options = Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]) : undefined
  if (options?.every((option) => option.const !== undefined)) {
    return `expected one of ${options.map((option) => JSON.stringify(option.const)).join(', ')}`
  }
  const text = message.charAt(0).toLowerCase() + message.slice(1)
  return schema.format && text.includes('format') ? `expected a string in ${schema.format} format` : text
}

/**
 * A copy of `schema` in which every object that does not say otherwise rejects undeclared
 * properties: fail closed, so a typo in a field name is an error rather than silently ignored.
 */
export function closeObjects(schema: TSchema): TSchema {
  return transform(schema) as TSchema
}

function transform(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(transform)
  if (node === null || typeof node !== 'object') return node
  const source = node as Record<string | symbol, unknown>
  const copy: Record<string | symbol, unknown> = {}
  for (const key of Reflect.ownKeys(source)) {
    copy[key] = typeof key === 'symbol' ? source[key] : transform(source[key])
  }
  if (Array.isArray(source.allOf)) {
    // An intersection: each member sees only its own properties, so closing the members would
    // reject every field of the others. Close the whole instead, over what all members declare.
    copy.allOf = (source.allOf as unknown[]).map(openTopLevel)
    if (copy.unevaluatedProperties === undefined) copy.unevaluatedProperties = false
  } else if (
    copy.type === 'object' &&
    copy.properties &&
    copy.additionalProperties === undefined &&
    copy.patternProperties === undefined
  ) {
    copy.additionalProperties = false
  }
  return copy
}

/** A member of an intersection: closed inside, open at its own top level. */
function openTopLevel(member: unknown): unknown {
  const closed = transform(member) as Record<string | symbol, unknown>
  if ((member as { additionalProperties?: unknown }).additionalProperties === undefined) {
    delete closed.additionalProperties
  }
  return closed
}

function hasNonString(schema: TSchema): boolean {
  if (schema[Kind] === 'Object') {
    return Object.values((schema as TObject).properties).some(hasNonString)
  }
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).some(hasNonString)
  return schema.type !== 'string'
}
