import type { JsonSchema, JsonValue } from './types.ts'

/** How {@link toJsonSchema} treats `$id`s and `$ref`s. */
export interface SchemaHooks {
  /** Called for a nested schema with an `$id`; returns what replaces it (a `$ref`). */
  hoist(id: string, schema: Record<string, unknown>): JsonSchema
  /** Rewrites a `$ref` value (a TypeBox `Type.Ref` names an `$id`). */
  ref(target: string): string
}

/** Options of one conversion. */
export interface ConvertOptions {
  /**
   * Fail closed as the request validator does: objects that declare properties and say nothing
   * about others get `additionalProperties: false`. Stops at schemas with an `$id` (shared ones,
   * which are shown as written since responses may use them too).
   */
  closed?: boolean
}

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'])
const SCHEMA_KEYWORDS = new Set([
  'additionalProperties',
  'propertyNames',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
  'items',
  'additionalItems',
])
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
const SCHEMA_MAP_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'dependentSchemas',
  '$defs',
  'definitions',
])
const ANNOTATIONS = ['title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly']
const ANY_KEY = new Set(['^(.*)$', '^.*$'])

/**
 * A TypeBox schema as plain JSON Schema 2020-12: symbol keys (TypeBox's `Kind`, `Optional`,
 * `Hint`) dropped; TypeBox-only types mapped to what travels in JSON (`Date` → a date-time
 * string, `Uint8Array` → a base64 string, `BigInt` → integer, `RegExp` → a string pattern,
 * `Undefined`/`Void` and other non-JSON types → a schema nothing matches); draft-07 tuples
 * (`items: [...]`, `additionalItems`) as `prefixItems`; a record over any key
 * (`patternProperties: { '^(.*)$': … }`) as `additionalProperties`. Nested schemas with an
 * `$id` go through `hooks.hoist`, `$ref`s through `hooks.ref`.
 *
 * @example
 * ```ts
 * toJsonSchema(Type.Tuple([Type.String(), Type.Number()]), hooks)
 * // { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false, minItems: 2, maxItems: 2 }
 * ```
 */
export function toJsonSchema(schema: unknown, hooks: SchemaHooks, options: ConvertOptions = {}): JsonSchema {
  return convert(schema, hooks, options.closed === true, true)
}

function convert(node: unknown, hooks: SchemaHooks, closed: boolean, isRoot: boolean): JsonSchema {
  if (typeof node === 'boolean') return node
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return {}
  const source = node as Record<string, unknown>
  if (!isRoot && typeof source.$id === 'string') return hooks.hoist(source.$id, source)
  const nonJson = typeof source.type === 'string' && !JSON_TYPES.has(source.type)
  if (nonJson) return withAnnotations(source, nonJsonType(source))
  const out: Record<string, JsonValue> = {}
  for (const key of Object.keys(source)) {
    const value = source[key]
    if (key === '$id' || value === undefined) continue
    if (key === '$ref' && typeof value === 'string') out.$ref = hooks.ref(value)
    else if (key === 'items' && Array.isArray(value)) out.prefixItems = list(value, hooks, closed)
    else if (key === 'additionalItems') continue
    else if (SCHEMA_KEYWORDS.has(key)) out[key] = convert(value, hooks, closed, false)
    else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) out[key] = list(value, hooks, closed)
    else if (SCHEMA_MAP_KEYWORDS.has(key) && isRecord(value)) out[key] = map(value, hooks, closed)
    else out[key] = plain(value)
  }
  if (Array.isArray(source.items) && source.additionalItems !== undefined) {
    out.items = convert(source.additionalItems, hooks, closed, false)
  }
  recordAsAdditionalProperties(out)
  if (
    closed &&
    out.type === 'object' &&
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out.patternProperties === undefined
  ) {
    out.additionalProperties = false
  }
  return out
}

function nonJsonType(source: Record<string, unknown>): Record<string, JsonValue> {
  switch (source.type) {
    case 'Date':
      return { type: 'string', format: 'date-time' }
    case 'Uint8Array':
      return { type: 'string', contentEncoding: 'base64' }
    case 'bigint':
      return { type: 'integer' }
    case 'RegExp':
      return typeof source.source === 'string'
        ? { type: 'string', pattern: source.source }
        : { type: 'string' }
    default:
      // undefined, void, symbol, function, constructor, promise, iterators: nothing in JSON matches.
      return { not: {} }
  }
}

function withAnnotations(source: Record<string, unknown>, out: Record<string, JsonValue>): JsonSchema {
  for (const key of ANNOTATIONS)
    if (source[key] !== undefined && key !== 'default') out[key] = plain(source[key])
  return out
}

/** `Type.Record(Type.String(), V)` says "any key" with a catch-all pattern; JSON Schema says it with `additionalProperties`. */
function recordAsAdditionalProperties(out: Record<string, JsonValue>): void {
  const patterns = out.patternProperties
  if (!isRecord(patterns) || out.properties !== undefined || out.additionalProperties !== undefined) return
  const keys = Object.keys(patterns)
  if (keys.length !== 1 || !ANY_KEY.has(keys[0]!)) return
  const rebuilt: Record<string, JsonValue> = {}
  for (const [key, value] of Object.entries(out)) {
    if (key === 'patternProperties') rebuilt.additionalProperties = patterns[keys[0]!]!
    else rebuilt[key] = value
  }
  for (const key of Object.keys(out)) delete out[key]
  Object.assign(out, rebuilt)
}

const list = (items: unknown[], hooks: SchemaHooks, closed: boolean): JsonValue[] =>
  items.map((item) => convert(item, hooks, closed, false))

function map(value: Record<string, unknown>, hooks: SchemaHooks, closed: boolean): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  for (const key of Object.keys(value)) {
    // defineProperty: a property named `__proto__` is a name here, not the prototype.
    Object.defineProperty(out, key, {
      value: convert(value[key], hooks, closed, false),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** A keyword's value (`enum`, `const`, `default`, `examples`) as plain JSON, symbol keys dropped. */
function plain(value: unknown): JsonValue {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))
  return text === undefined ? null : (JSON.parse(text) as JsonValue)
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
