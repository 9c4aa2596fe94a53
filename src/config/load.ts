import { readFileSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { type TObject, type TSchema, Type } from '@sinclair/typebox'
import { Value, ValueErrorType } from '@sinclair/typebox/value'
import { isSecretKey } from '../log/redact.ts'
import { ConfigError, type ConfigIssue } from './config-error.ts'
import { didYouMean } from './did-you-mean.ts'
import { envLeaves, interpolateLeaves, type Leaf, leavesOf } from './layers.ts'
import { builtInProfiles, type ConfigSection, type KernelConfig, kernelSections } from './schema.ts'
import { isSecret, propertyNames, schemaAt, takesKeys } from './schema-walk.ts'
import { keyOf, type ValueSource } from './source.ts'
import { kindOf, readConfigFile, typeOf } from './yaml-file.ts'

/** Options of {@link loadConfig}. Every field is optional; the defaults read the real process. */
export interface LoadConfigOptions {
  /** The service root holding keel.yaml and package.json. Default: `process.cwd()`. */
  root?: string
  /** Config file path relative to `root`. Default: `keel.yaml`. */
  file?: string
  /** Profile to apply. Default: `KEEL_PROFILE`, else `dev`. */
  profile?: string
  /** Environment to read variables from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Highest-precedence values, e.g. from tests: `{ server: { port: 0 } }`. */
  overrides?: Record<string, unknown>
  /** Sections capabilities add to the kernel's. */
  sections?: readonly ConfigSection[]
  /**
   * Tolerate top-level sections no schema declares yet. The app loads this way while modules
   * are still being added with `use()`, then checks strictly at start.
   */
  ignoreUnknownSections?: boolean
}

/** One effective value, as `keel config` prints it. */
export interface ConfigEntry {
  key: string
  value: unknown
  source: ValueSource
  isSecret: boolean
}

/** Validated configuration plus where each value came from. */
export interface LoadedConfig<T = KernelConfig> {
  readonly values: T
  readonly profile: string
  /** Absolute path of the config file, when one was read. */
  readonly file?: string
  readonly schema: TObject
  sourceOf(key: string): ValueSource | undefined
  /** Every leaf value with its source, sorted by key. */
  entries(): ConfigEntry[]
}

/**
 * Loads configuration in layers, lowest first: schema defaults, package.json (service name and
 * version), built-in profile defaults, keel.yaml, its `profiles.<profile>` section, environment
 * variables, programmatic overrides. Validates the result and throws one {@link ConfigError}
 * listing every problem with its source.
 *
 * @example
 * ```ts
 * const config = loadConfig({ overrides: { server: { port: 0 } } })
 * config.values.server.port // 0
 * config.sourceOf('server.port') // { kind: 'override' }
 * ```
 */
export function loadConfig<T = KernelConfig & Record<string, unknown>>(
  options: LoadConfigOptions = {},
): LoadedConfig<T> {
  const root = options.root ?? process.cwd()
  const env = options.env ?? process.env
  const profile = options.profile || env.KEEL_PROFILE || 'dev'
  const sections = [...kernelSections, ...(options.sections ?? [])]
  const schema = buildSchema(sections)
  const issues: ConfigIssue[] = []

  const layers: Leaf[][] = [
    leavesOf(Value.Default(schema, {}) as Record<string, unknown>, () => ({ kind: 'default' })),
    packageLeaves(root),
    leavesOf(builtInProfiles[profile] ?? {}, () => ({ kind: 'default', profile })),
  ]

  const filePath = join(root, options.file ?? 'keel.yaml')
  const file = readConfigFile(filePath, displayPath(filePath))
  if (Array.isArray(file)) throw new ConfigError(file)
  if (file) {
    const { profiles, ...sections } = file.value
    const fileSource = (path: string[]): ValueSource => ({
      kind: 'file',
      file: file.displayName,
      line: file.lineOf(path),
    })
    const profileSource = (path: string[]): ValueSource => ({
      kind: 'profile',
      profile,
      file: file.displayName,
      line: file.lineOf(['profiles', profile, ...path]),
    })
    const fileLeaves = leavesOf(sections, fileSource)
    layers.push(fileLeaves)
    issues.push(...interpolateLeaves(fileLeaves, schema, env))
    const profileLeaves = readProfile(profiles, profile, file, issues, profileSource, options.profile)
    layers.push(profileLeaves)
    issues.push(...interpolateLeaves(profileLeaves, schema, env))
  } else if (options.file) {
    throw new ConfigError([
      { code: 'KEEL_CONFIG_FILE_UNREADABLE', key: '', message: `${filePath}: file not found` },
    ])
  }
  layers.push(envLeaves(env, schema))
  if (options.overrides) layers.push(leavesOf(options.overrides, () => ({ kind: 'override' })))

  for (const layer of layers.slice(1)) {
    const unknown = unknownKeys(layer, schema)
    issues.push(...(options.ignoreUnknownSections ? unknown.filter((i) => i.key.includes('.')) : unknown))
  }
  const { value, sources } = merge(layers)
  const sourceOf = (key: string) => findSource(sources, key)
  const reported = new Set(issues.map((issue) => issue.key))
  const badTypes = typeIssues(schema, value, sourceOf)
  issues.push(...badTypes.filter((issue) => !reported.has(issue.key)))
  // A section's own check may assume its schema holds, so it runs only on well-typed sections.
  const badSections = new Set(badTypes.map((issue) => issue.key.split('.')[0]))
  issues.push(
    ...sectionChecks(
      sections.filter((s) => !badSections.has(s.name)),
      value,
      sourceOf,
    ),
  )
  if (issues.length > 0) throw new ConfigError(issues)

  return {
    values: value as T,
    profile,
    file: file ? filePath : undefined,
    schema,
    sourceOf,
    entries: () =>
      [...sources.entries()]
        .map(([key, source]) => {
          const path = key.split('.')
          return {
            key,
            value: valueAt(value, path),
            source,
            isSecret: isSecretAt(schema, path),
          }
        })
        .sort((a, b) => a.key.localeCompare(b.key)),
  }
}

function buildSchema(sections: readonly ConfigSection[]): TObject {
  const properties: Record<string, TSchema> = {}
  for (const section of sections) {
    if (properties[section.name]) {
      throw new ConfigError([
        {
          code: 'KEEL_CONFIG_SECTION_CONFLICT',
          key: section.name,
          message: 'config section is declared twice',
        },
      ])
    }
    properties[section.name] = section.schema
  }
  return Type.Object(properties, { additionalProperties: false })
}

function packageLeaves(root: string): Leaf[] {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name?: unknown
      version?: unknown
    }
    const source: ValueSource = { kind: 'package', file: 'package.json' }
    const leaves: Leaf[] = []
    if (typeof pkg.name === 'string')
      leaves.push({ path: ['service', 'name'], value: pkg.name.replace(/^@[^/]+\//, ''), source })
    if (typeof pkg.version === 'string')
      leaves.push({ path: ['service', 'version'], value: pkg.version, source })
    return leaves
  } catch {
    return []
  }
}

function readProfile(
  profiles: unknown,
  profile: string,
  file: NonNullable<ReturnType<typeof readConfigFile>> & {
    displayName: string
    lineOf: (p: readonly string[]) => number | undefined
  },
  issues: ConfigIssue[],
  sourceOf: (path: string[]) => ValueSource,
  explicitProfile: string | undefined,
): Leaf[] {
  if (profiles === undefined) return []
  if (profiles === null || typeof profiles !== 'object' || Array.isArray(profiles)) {
    issues.push({
      code: 'KEEL_CONFIG_INVALID',
      key: 'profiles',
      message: `expected a mapping of profile names to sections, got ${typeOf(profiles)}`,
      source: { kind: 'file', file: file.displayName, line: file.lineOf(['profiles']) },
    })
    return []
  }
  const chosen = (profiles as Record<string, unknown>)[profile]
  if (chosen === undefined) {
    if (!builtInProfiles[profile]) {
      const hint = didYouMean(profile, Object.keys(profiles))
      issues.push({
        code: 'KEEL_CONFIG_UNKNOWN_PROFILE',
        key: 'profiles',
        message: `profile "${profile}" is not defined (defined: ${Object.keys(profiles).join(', ') || 'none'})${hint ? `; did you mean "${hint}"?` : ''}`,
        // Named by KEEL_PROFILE, unless the caller chose it (--profile, createApp({ profile })).
        source: explicitProfile ? undefined : { kind: 'env', name: 'KEEL_PROFILE' },
      })
    }
    return []
  }
  if (chosen === null || typeof chosen !== 'object' || Array.isArray(chosen)) return []
  return leavesOf(chosen as Record<string, unknown>, sourceOf)
}

function unknownKeys(leaves: Leaf[], schema: TObject): ConfigIssue[] {
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

function merge(layers: Leaf[][]): { value: Record<string, unknown>; sources: Map<string, ValueSource> } {
  const value: Record<string, unknown> = {}
  const sources = new Map<string, ValueSource>()
  for (const leaf of layers.flat()) {
    let target = value
    for (const segment of leaf.path.slice(0, -1)) {
      const next = target[segment]
      if (next === null || typeof next !== 'object' || Array.isArray(next)) target[segment] = {}
      target = target[segment] as Record<string, unknown>
    }
    const last = leaf.path.at(-1)!
    const isEmptyObject = typeof leaf.value === 'object' && leaf.value !== null && !Array.isArray(leaf.value)
    if (isEmptyObject && typeof target[last] === 'object' && target[last] !== null) continue
    target[last] = structuredClone(leaf.value)
    const key = keyOf(leaf.path)
    // A leaf replaces whatever was recorded below it, and an ancestor recorded as a whole value
    // (an empty `{}` default) stops being a leaf of its own.
    for (const existing of [...sources.keys()]) {
      if (existing.startsWith(`${key}.`) || key.startsWith(`${existing}.`)) sources.delete(existing)
    }
    sources.set(key, leaf.source)
  }
  return { value, sources }
}

function findSource(sources: Map<string, ValueSource>, key: string): ValueSource | undefined {
  const exact = sources.get(key)
  if (exact) return exact
  for (const [candidate, source] of sources) if (candidate.startsWith(`${key}.`)) return source
  const path = key.split('.')
  for (let i = path.length - 1; i > 0; i--) {
    const ancestor = sources.get(keyOf(path.slice(0, i)))
    if (ancestor) return ancestor
  }
  return undefined
}

function typeIssues(
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
    const range =
      schema.minimum !== undefined && schema.maximum !== undefined
        ? ` ${schema.minimum}-${schema.maximum}`
        : schema.minimum !== undefined
          ? ` >= ${schema.minimum}`
          : ''
    return `${schema.type}${range}`
  }
  if (schema.pattern !== undefined) return `a string matching ${schema.pattern}`
  if (schema.type === 'null' || schema.type === 'boolean' || schema.type === 'string') return schema.type
  return undefined
}

/** True when the value at `path` is secret: marked so in the schema, or named like a secret. */
function isSecretAt(schema: TSchema, path: readonly string[]): boolean {
  return isSecret(schemaAt(schema, path).schema) || (path.length > 0 && isSecretKey(path.at(-1)!))
}

/** A config file's name as users see it: relative to the working directory when inside it. */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path)
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path
}

function sectionChecks(
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

function valueAt(value: unknown, path: string[]): unknown {
  let current = value
  for (const segment of path) current = (current as Record<string, unknown> | undefined)?.[segment]
  return current
}
