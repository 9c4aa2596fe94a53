import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox'

/**
 * Marks a string as a secret: `keel config` and logs show it redacted. URLs keep their host and
 * lose only their password.
 */
export const Secret = (options: { default?: string; description?: string } = {}) =>
  Type.String({ ...options, secret: true })

/** A config section: a name (top-level key in keel.yaml) and its TypeBox schema. */
export interface ConfigSection<S extends TSchema = TObject, N extends string = string> {
  readonly name: N
  readonly schema: S
  /** Checks a schema cannot express; returns problems by key relative to the section. */
  readonly check?: (value: unknown) => readonly SectionProblem[]
}

/** A problem a section's `check` found, e.g. `{ key: 'level', message: 'unknown level "verbose"' }`. */
export interface SectionProblem {
  key: string
  message: string
}

/**
 * Declares a config section a capability adds to the schema. Every property should carry a
 * default so the section is optional in keel.yaml.
 *
 * @example
 * ```ts
 * const cache = defineConfigSection('cache', { ttlMs: Type.Integer({ minimum: 0, default: 60_000 }) })
 * ```
 */
export function defineConfigSection<N extends string, P extends TProperties>(
  name: N,
  properties: P,
  options: { description?: string; check?: (value: Static<TObject<P>>) => readonly SectionProblem[] } = {},
): ConfigSection<TObject<P>, N> {
  const { check, ...schemaOptions } = options
  const schema = Type.Object(properties, { ...schemaOptions, additionalProperties: false, default: {} })
  return { name, schema, check: check as ConfigSection['check'] }
}
