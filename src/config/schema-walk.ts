import { Kind, type TSchema } from '@sinclair/typebox'

/** The object-member schemas reachable from `schema`, looking through unions. */
function objectsOf(schema: TSchema): TSchema[] {
  if (schema[Kind] === 'Union') return (schema.anyOf as TSchema[]).flatMap(objectsOf)
  return schema.type === 'object' ? [schema] : []
}

/** Schema of the child `key` of an object schema; `undefined` if the key is not allowed there. */
export function childSchema(schema: TSchema, key: string): TSchema | undefined {
  for (const object of objectsOf(schema)) {
    const properties = object.properties as Record<string, TSchema> | undefined
    if (properties && Object.hasOwn(properties, key)) return properties[key]
    // Record<string, T> compiles to patternProperties; open objects use additionalProperties.
    const patterns = object.patternProperties as Record<string, TSchema> | undefined
    if (patterns) return Object.values(patterns)[0]
    if (typeof object.additionalProperties === 'object') return object.additionalProperties as TSchema
    if (object.additionalProperties !== false && !properties) return {} as TSchema
  }
  return undefined
}

/** The property names an object schema declares (for "did you mean" and env-name matching). */
export function propertyNames(schema: TSchema): string[] {
  return objectsOf(schema).flatMap((o) => Object.keys((o.properties as object | undefined) ?? {}))
}

/** True when `schema` (or a union member) is an object, so keys below it make sense. */
export function takesKeys(schema: TSchema): boolean {
  return objectsOf(schema).length > 0
}

/** True when `schema` is an object that takes arbitrary keys (a record). */
export function isOpenObject(schema: TSchema): boolean {
  return objectsOf(schema).some(
    (o) => o.patternProperties !== undefined || typeof o.additionalProperties === 'object',
  )
}

/** Walks a key path; `undefined` with the index of the first segment the schema does not allow. */
export function schemaAt(root: TSchema, path: readonly string[]): { schema?: TSchema; unknownAt?: number } {
  let schema: TSchema | undefined = root
  for (let i = 0; i < path.length; i++) {
    if (schema!.type === 'array') {
      schema = schema!.items as TSchema
      continue
    }
    const next = childSchema(schema!, path[i]!)
    if (!next) return { unknownAt: i }
    schema = next
  }
  return { schema }
}

/** True when the schema (or a union member) is secret-marked. */
export function isSecret(schema: TSchema | undefined): boolean {
  if (!schema) return false
  if (schema.secret === true) return true
  return schema[Kind] === 'Union' && (schema.anyOf as TSchema[]).some(isSecret)
}

/**
 * Turns a string from the environment (or an interpolated file value) into the type its schema
 * wants. Returns the string unchanged when no coercion fits, so validation reports it.
 */
export function coerce(text: string, schema: TSchema | undefined): unknown {
  if (!schema) return text
  const types = schema[Kind] === 'Union' ? (schema.anyOf as TSchema[]) : [schema]
  for (const member of types) {
    switch (member.type) {
      case 'string':
        return text
      case 'integer':
      case 'number': {
        const n = text.trim() === '' ? Number.NaN : Number(text)
        if (!Number.isNaN(n) && (member.type === 'number' || Number.isInteger(n))) return n
        break
      }
      case 'boolean':
        if (/^(true|1|yes|on)$/i.test(text)) return true
        if (/^(false|0|no|off)$/i.test(text)) return false
        break
      case 'null':
        if (text === '' || text === 'null') return null
        break
      case 'array':
        if (text.trim().startsWith('[')) return parseJson(text)
        return text === '' ? [] : text.split(',').map((item) => coerce(item.trim(), member.items as TSchema))
      case 'object':
        return parseJson(text)
    }
  }
  return text
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
