import type { TSchema } from '@sinclair/typebox'
import type { ConfigIssue } from './config-error.ts'
import { interpolate } from './interpolate.ts'
import { coerce, isOpenObject, propertyNames, schemaAt } from './schema-walk.ts'
import type { ValueSource } from './source.ts'

/** One configured value at a key path, with where it came from. A layer is a list of them. */
export interface Leaf {
  path: string[]
  value: unknown
  source: ValueSource
  /** The source of an ancestor path in the same layer (for errors about a parent key). */
  sourceOf?: (path: string[]) => ValueSource
}

/** Flattens a plain object to leaves. Arrays and scalars are leaves; objects recurse. */
export function leavesOf(
  value: Record<string, unknown>,
  sourceOf: (path: string[]) => ValueSource,
  prefix: string[] = [],
): Leaf[] {
  const leaves: Leaf[] = []
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, key]
    if (
      child !== null &&
      typeof child === 'object' &&
      !Array.isArray(child) &&
      Object.keys(child).length > 0
    ) {
      leaves.push(...leavesOf(child as Record<string, unknown>, sourceOf, path))
    } else {
      leaves.push({ path, value: child, source: sourceOf(path), sourceOf })
    }
  }
  return leaves
}

/**
 * Resolves `${VAR}` references in the string leaves of a file layer and coerces the result to
 * the schema's type (so `port: ${PORT:3000}` yields a number). Unset variables become issues.
 */
export function interpolateLeaves(leaves: Leaf[], schema: TSchema, env: NodeJS.ProcessEnv): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const resolve = (text: string, path: string[], source: ValueSource): unknown => {
    const result = interpolate(text, env)
    for (const name of result.missing) {
      issues.push({
        code: 'KEEL_CONFIG_MISSING_VAR',
        key: path.join('.'),
        message: `variable ${name} is not set and \${${name}} has no default (write \${${name}:default} to give one)`,
        source,
      })
    }
    return result.changed ? coerce(result.text, schemaAt(schema, path).schema) : text
  }
  for (const leaf of leaves) {
    if (typeof leaf.value === 'string') {
      leaf.value = resolve(leaf.value, leaf.path, leaf.source)
    } else if (Array.isArray(leaf.value)) {
      // List items are interpolated too, and an unset variable in one is as fatal as anywhere else.
      leaf.value = leaf.value.map((item, index) => {
        if (typeof item !== 'string') return item
        const path = [...leaf.path, String(index)]
        return resolve(item, path, leaf.sourceOf?.(path) ?? leaf.source)
      })
    }
  }
  return issues
}

/** Environment variables that map onto config keys without the KEEL_ prefix. */
export const wellKnownEnv: Readonly<Record<string, readonly string[]>> = {
  PORT: ['server', 'port'],
  HOST: ['server', 'host'],
  LOG_LEVEL: ['log', 'level'],
  DATABASE_URL: ['database', 'url'],
  REDIS_URL: ['redis', 'url'],
  NATS_URL: ['nats', 'url'],
  OTEL_EXPORTER_OTLP_ENDPOINT: ['tracing', 'endpoint'],
  OTEL_SERVICE_NAME: ['service', 'name'],
}

const normalize = (name: string) => name.toLowerCase().replaceAll('_', '')

/**
 * The environment layer: well-known variables first, then `KEEL_<SECTION>__<KEY>` (double
 * underscore nests). Segments match schema keys ignoring case and underscores, so
 * `KEEL_SHUTDOWN__DRAIN_DELAY_MS` sets `shutdown.drainDelayMs`. Values are coerced by the schema.
 */
export function envLeaves(env: NodeJS.ProcessEnv, schema: TSchema): Leaf[] {
  const leaves: Leaf[] = []
  for (const [name, path] of Object.entries(wellKnownEnv)) {
    const text = env[name]
    if (text === undefined || text === '') continue
    leaves.push({
      path: [...path],
      value: coerce(text, schemaAt(schema, path).schema),
      source: { kind: 'env', name },
    })
    // Setting an OTLP endpoint is how the OpenTelemetry world says "export traces".
    if (name === 'OTEL_EXPORTER_OTLP_ENDPOINT') {
      leaves.push({ path: ['tracing', 'enabled'], value: true, source: { kind: 'env', name } })
    }
  }
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('KEEL_') || !name.includes('__')) continue
    const segments = name.slice('KEEL_'.length).split('__')
    const path: string[] = []
    let current: TSchema | undefined = schema
    for (const segment of segments) {
      const match = current && propertyNames(current).find((key) => normalize(key) === normalize(segment))
      if (match) path.push(match)
      else if (current && isOpenObject(current)) path.push(segment.toLowerCase())
      else {
        path.push(segment.toLowerCase())
        current = undefined
        break
      }
      current = schemaAt(schema, path).schema
    }
    // Unknown keys are reported by validation, which knows the "did you mean" candidates.
    const value = current ? coerce(env[name]!, current) : env[name]
    leaves.push({ path, value, source: { kind: 'env', name } })
  }
  return leaves
}
