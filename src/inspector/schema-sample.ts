import { patternSample } from './pattern-sample.ts'

/** A JSON Schema as the sample generator reads it (TypeBox schemas are JSON Schema). */
type Schema = Readonly<Record<string, unknown>>

/** Strings that satisfy each string format Keel validates (`src/http/formats.ts`), and a few more. */
const formatSamples: Readonly<Record<string, string>> = {
  email: 'user@example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  'date-time': '2024-01-01T12:00:00.000Z',
  date: '2024-01-01',
  time: '12:00:00Z',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  'uri-reference': '/example',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  hostname: 'example.com',
  byte: 'c2FtcGxl',
  duration: 'PT1M',
  regex: '.*',
}

/** Candidates tried against a `pattern` when nothing else says what fits. */
const patternCandidates = [
  'sample',
  'a',
  'A',
  '0',
  '1',
  'a1',
  'A1',
  'abc',
  'ABC',
  'sample-1',
  'sample_1',
  'x@y.z',
]

const maxDepth = 10

/**
 * A value that satisfies `schema`, for the inspector's relay: `const`, then `default`, then the
 * first of `examples` or `enum`; otherwise built from the type: strings honour `format`,
 * `minLength`/`maxLength` and `pattern` (walked to build a match, see `patternSample`, then a few candidates); numbers their bounds and
 * `multipleOf`; arrays `minItems` (one item at least); objects get every property whose sample
 * fits, required ones always. Deterministic: the same schema gives the same sample. It is a
 * starting point a person edits, not a fuzzer.
 *
 * @example
 * ```ts
 * sampleOf(Type.Object({ email: Type.String({ format: 'email' }), qty: Type.Integer({ minimum: 1 }) }))
 * // { email: 'user@example.com', qty: 1 }
 * ```
 */
export function sampleOf(schema: unknown): unknown {
  return sample(asSchema(schema), 0)
}

const asSchema = (value: unknown): Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : {}

function sample(schema: Schema, depth: number): unknown {
  if ('const' in schema) return schema.const
  if (schema.default !== undefined) return schema.default
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  if (depth > maxDepth) return null
  const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined
  if (Array.isArray(union) && union.length > 0) {
    // The first member that is not null: a nullable field shows its real shape.
    const member = union.map(asSchema).find((m) => m.type !== 'null') ?? asSchema(union[0])
    return sample(member, depth + 1)
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const parts = schema.allOf.map((part) => sample(asSchema(part), depth + 1))
    return parts.every(isPlainObject) ? Object.assign({}, ...parts) : parts[0]
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? 'null') : schema.type
  switch (type) {
    case 'string':
      return stringSample(schema)
    case 'integer':
    case 'number':
      return numberSample(schema, type === 'integer')
    case 'boolean':
      return true
    case 'null':
      return null
    case 'array':
      return arraySample(schema, depth)
    case 'object':
      return objectSample(schema, depth)
    default:
      if (schema.properties) return objectSample(schema, depth)
      return null
  }
}

function stringSample(schema: Schema): string {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY
  const format = typeof schema.format === 'string' ? formatSamples[schema.format] : undefined
  if (format !== undefined) return format
  const fitLength = (text: string) => {
    let out = text
    while (out.length < min) out += text || 'x'
    return out.slice(0, Math.max(min, Math.min(out.length, max)))
  }
  if (typeof schema.pattern === 'string') {
    let pattern: RegExp | undefined
    try {
      pattern = new RegExp(schema.pattern, 'u')
    } catch {
      pattern = undefined
    }
    if (pattern) {
      const built = patternSample(schema.pattern)
      if (built !== undefined && built.length >= min && built.length <= max && pattern.test(built))
        return built
      for (const candidate of patternCandidates) {
        const text = fitLength(candidate)
        if (pattern.test(text)) return text
      }
    }
  }
  return fitLength('sample')
}

function numberSample(schema: Schema, isInteger: boolean): number {
  const step =
    typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : isInteger ? 1 : 0
  let low = typeof schema.minimum === 'number' ? schema.minimum : Number.NEGATIVE_INFINITY
  let high = typeof schema.maximum === 'number' ? schema.maximum : Number.POSITIVE_INFINITY
  if (typeof schema.exclusiveMinimum === 'number')
    low = Math.max(low, schema.exclusiveMinimum + (step || 1e-9))
  if (typeof schema.exclusiveMaximum === 'number')
    high = Math.min(high, schema.exclusiveMaximum - (step || 1e-9))
  // 1 is a friendlier sample than 0 (a quantity, a page); bounds move it.
  let value = Math.min(Math.max(1, low), high)
  if (step > 0) {
    value = Math.ceil(value / step) * step
    if (value > high) value = Math.floor(high / step) * step
  }
  if (isInteger) value = Math.ceil(value)
  return value
}

function arraySample(schema: Schema, depth: number): unknown[] {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY
  const count = Math.min(Math.max(min, 1), max)
  const items = asSchema(Array.isArray(schema.items) ? schema.items[0] : schema.items)
  const out: unknown[] = []
  for (let i = 0; i < count; i++) {
    const item = sample(items, depth + 1)
    // Unique items: vary each one a little (a suffix, a step) so they differ.
    out.push(schema.uniqueItems && i > 0 ? varied(item, i) : item)
  }
  return out
}

/** `value` changed a little for the `i`th item (a suffix, a step; in an object, its first field that can change). */
function varied(value: unknown, i: number): unknown {
  if (typeof value === 'string') return `${value}${i}`
  if (typeof value === 'number') return value + i
  if (isPlainObject(value)) {
    for (const [key, field] of Object.entries(value)) {
      const changed = varied(field, i)
      if (changed !== field) return { ...value, [key]: changed }
    }
  }
  return value
}

function objectSample(schema: Schema, depth: number): Record<string, unknown> {
  const properties = asSchema(schema.properties)
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
  const out: Record<string, unknown> = {}
  for (const [name, property] of Object.entries(properties)) {
    const value = sample(asSchema(property), depth + 1)
    // An optional field whose sample is a guess (null for an unknown shape) is left out.
    if (value === null && !required.has(name) && asSchema(property).type !== 'null') continue
    out[name] = value
  }
  return out
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
