import { KeelError } from '../../errors/index.ts'
import { canonicalJson, compareText } from './canonical-json.ts'
import { type ConvertOptions, type SchemaHooks, toJsonSchema } from './json-schema.ts'
import type { JsonSchema } from './types.ts'

interface Defined {
  name: string
  schema: JsonSchema
  canonical: string
  where: string
}

const PREFIX = '#/components/schemas/'

/**
 * The document's `components/schemas`: converts route schemas to JSON Schema and hoists every
 * schema with an `$id` into a component (`$id: 'User'` → `#/components/schemas/User`), so a
 * shared schema appears once and `Type.Ref('User')` resolves. Two different schemas with the same
 * `$id` are an error naming both places.
 */
export class SchemaComponents {
  readonly #byId = new Map<string, Defined>()
  readonly #names = new Map<string, string>()
  readonly #refs = new Map<string, string>()
  readonly #reserved: ReadonlyMap<string, JsonSchema>

  /** `reserved` are Keel's own components (`ProblemDetails`); no `$id` may take their names. */
  constructor(reserved: Readonly<Record<string, JsonSchema>>) {
    this.#reserved = new Map(Object.entries(reserved))
  }

  /** `schema` as JSON Schema; `where` (`GET /users body`) names it in errors. */
  convert(schema: unknown, where: string, options: ConvertOptions = {}): JsonSchema {
    const hooks = this.#hooks(where)
    const root = schema as Record<string, unknown> | null
    if (root && typeof root === 'object' && typeof root.$id === 'string') return hooks.hoist(root.$id, root)
    return toJsonSchema(schema, hooks, options)
  }

  /** Every component schema, Keel's first, then by name. Throws on a `$ref` to an unknown `$id`. */
  schemas(): Record<string, JsonSchema> {
    for (const [target, where] of this.#refs) {
      if (!this.#byId.has(target)) {
        throw new KeelError(
          'KEEL_ROUTE_INVALID',
          `openapi: ${where}: $ref "${target}" names no schema with that $id in any route`,
        )
      }
    }
    const out: Record<string, JsonSchema> = Object.fromEntries(this.#reserved)
    const defined = [...this.#byId.values()].sort((a, b) => compareText(a.name, b.name))
    for (const { name, schema } of defined) out[name] = schema
    return out
  }

  #define(id: string, source: Record<string, unknown>, where: string): JsonSchema {
    const name = this.#nameOf(id)
    const reference = { $ref: PREFIX + name }
    const existing = this.#byId.get(id)
    // Being defined right now: a schema that contains itself.
    if (existing?.canonical === '') return reference
    if (!existing) this.#byId.set(id, { name, schema: {}, canonical: '', where })
    const schema = toJsonSchema(source, this.#hooks(where))
    const canonical = canonicalJson(schema)
    if (existing) {
      if (existing.canonical !== canonical) {
        throw new KeelError(
          'KEEL_ROUTE_INVALID',
          `openapi: two different schemas have $id "${id}" (${existing.where}; ${where})`,
        )
      }
      return reference
    }
    this.#byId.set(id, { name, schema, canonical, where })
    return reference
  }

  #hooks(where: string): SchemaHooks {
    return {
      hoist: (id, source) => this.#define(id, source, where),
      ref: (target) => {
        if (target.startsWith('#')) return target
        if (!this.#refs.has(target)) this.#refs.set(target, where)
        return PREFIX + this.#nameOf(target)
      },
    }
  }

  /** `User` → `User`; `https://example.com/schemas/user.json` → `schemas_user`. */
  #nameOf(id: string): string {
    const name = id
      .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*\//i, '')
      .replace(/\.json$/, '')
      .replace(/[^A-Za-z0-9._-]/g, '_')
    const owner = this.#names.get(name)
    if ((owner !== undefined && owner !== id) || this.#reserved.has(name)) {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `openapi: schema $id "${id}" gives the component name "${name}", which ${owner && owner !== id ? `$id "${owner}" already has` : 'Keel reserves'}`,
      )
    }
    this.#names.set(name, id)
    return name
  }
}
