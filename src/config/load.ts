import { readFileSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { type TObject, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError, type ConfigIssue } from './config-error.ts'
import { didYouMean } from './did-you-mean.ts'
import { envLeaves, interpolateLeaves, type Leaf, leavesOf } from './layers.ts'
import { findSource, merge } from './merge.ts'
import { builtInProfiles, type ConfigSection, type KernelConfig, kernelSections } from './schema.ts'
import type { ValueSource } from './source.ts'
import { isSecretAt, sectionChecks, typeIssues, unknownKeys } from './validate.ts'
import { readConfigFile, typeOf } from './yaml-file.ts'

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
  /** The service root the file was looked for in (absolute): relative paths of modules resolve from it. */
  readonly root: string
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
    root: resolve(root),
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

/** A config file's name as users see it: relative to the working directory when inside it. */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path)
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path
}

function valueAt(value: unknown, path: string[]): unknown {
  let current = value
  for (const segment of path) current = (current as Record<string, unknown> | undefined)?.[segment]
  return current
}
