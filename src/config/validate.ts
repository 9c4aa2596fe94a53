import type { TObject, TSchema } from '@sinclair/typebox'
import { Value, ValueErrorType } from '@sinclair/typebox/value'
import { isSecretKey } from '../log/redact.ts'
import type { ConfigIssue } from './config-error.ts'
import { didYouMean } from './did-you-mean.ts'
import type { Leaf } from './layers.ts'
import type { ConfigSection } from './schema.ts'
import { isSecret, propertyNames, schemaAt, takesKeys } from './schema-walk.ts'
import { keyOf, type ValueSource } from './source.ts'
import { kindOf, typeOf } from './yaml-file.ts'

/** Keys no schema declares, each with a "did you mean" when one is close. */
export function unknownKeys(leaves: Leaf[], schema: TObject): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  for (const leaf of leaves) {
    const { unknownAt } = schemaAt(schema, leaf.path)
    if (unknownAt === undefined) continue
    const key = keyOf(leaf.path.slice(0, unknownAt + 1))
    if (seen.has(key)) continue
    seen.add(key)
    const parent = schemaAt(schema, leaf.path.slice(0, unknownAt)).schema
    // Keys under a scalar (`level: { root: info }`) are a wrong type, which validation reports.
    if (parent && !takesKeys(parent)) continue
    const hint = parent && didYouMean(leaf.path[unknownAt]!, propertyNames(parent))
    const scope = unknownAt === 0 ? 'unknown section' : 'unknown key'
    issues.push({
      code: 'KEEL_CONFIG_INVALID',
      key,
      message: `${scope}${hint ? `; did you mean "${hint}"?` : ''}`,
      source: leaf.sourceOf?.(leaf.path.slice(0, unknownAt + 1)) ?? leaf.source,
    })
  }
  return issues
}

/** Values of the wrong type, one issue per key; secrets show only their kind. */
export function typeIssues(
  schema: TObject,
  value: unknown,
  sourceOf: (key: string) => ValueSource | undefined,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  for (const error of Value.Errors(schema, value)) {
    if (error.type === ValueErrorType.ObjectAdditionalProperties) continue
    const key = error.path.split('/').slice(1).join('.')
    if (seen.has(key)) continue
    seen.add(key)
    const described = describeExpected(error.schema)
    const expected = described
      ? `expected ${described}`
      : error.message.charAt(0).toLowerCase() + error.message.slice(1)
    // A secret's value never appears in an error message, even a wrong one.
    const got = isSecretAt(schema, key.split('.')) ? kindOf(error.value) : typeOf(error.value)
    issues.push({
      code: 'KEEL_CONFIG_INVALID',
      key,
      message: `${expected}, got ${got}`,
      source: sourceOf(key),
    })
  }
  return issues
}

/** What a schema accepts, in words: `integer 0-65535 or null`, `one of "auto", "json"`. */
function describeExpected(schema: TSchema): string | undefined {
  if (Array.isArray(schema.anyOf)) {
    const members = schema.anyOf as TSchema[]
    if (members.every((s) => s.const !== undefined)) {
      return `one of ${members.map((s) => JSON.stringify(s.const)).join(', ')}`
    }
    const described = members.map(describeExpected)
    return described.every((d) => d !== undefined) ? described.join(' or ') : undefined
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    const above =
      schema.exclusiveMinimum !== undefined
        ? `> ${schema.exclusiveMinimum}`
        : schema.minimum !== undefined
          ? `>= ${schema.minimum}`
          : undefined
    const below =
      schema.exclusiveMaximum !== undefined
        ? `< ${schema.exclusiveMaximum}`
        : schema.maximum !== undefined
          ? `<= ${schema.maximum}`
          : undefined
    const range =
      schema.minimum !== undefined && schema.maximum !== undefined
        ? ` ${schema.minimum}-${schema.maximum}`
        : [above, below].filter(Boolean).join(' and ')
    return range.startsWith(' ') || range === '' ? `${schema.type}${range}` : `${schema.type} ${range}`
  }
  if (schema.pattern !== undefined) return `a string matching ${schema.pattern}`
  if (schema.type === 'null' || schema.type === 'boolean' || schema.type === 'string') return schema.type
  return undefined
}

/** Problems the sections' own `check` functions find. */
export function sectionChecks(
  sections: readonly ConfigSection[],
  value: Record<string, unknown>,
  sourceOf: (key: string) => ValueSource | undefined,
): ConfigIssue[] {
  return sections.flatMap((section) =>
    (section.check?.(value[section.name]) ?? []).map((problem) => {
      const key = `${section.name}.${problem.key}`
      return { code: 'KEEL_CONFIG_INVALID' as const, key, message: problem.message, source: sourceOf(key) }
    }),
  )
}

/** True when the value at `path` is secret: marked so in the schema, or named like a secret. */
export function isSecretAt(schema: TSchema, path: readonly string[]): boolean {
  return isSecret(schemaAt(schema, path).schema) || (path.length > 0 && isSecretKey(path.at(-1)!))
}
