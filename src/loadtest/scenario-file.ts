import { isAbsolute, relative, resolve } from 'node:path'
import type { Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError, type ConfigIssue } from '../config/config-error.ts'
import { interpolateLeaves, leavesOf } from '../config/layers.ts'
import { loadtestSection, scenarioProblems } from '../config/loadtest-section.ts'
import { findSource, merge } from '../config/merge.ts'
import type { ValueSource } from '../config/source.ts'
import { typeIssues, unknownKeys } from '../config/validate.ts'
import { readConfigFile } from '../config/yaml-file.ts'

/** The scenarios of a `--file`: the shape of keel.yaml's `loadtest` section. */
export type ScenarioFileContent = Static<(typeof loadtestSection)['schema']>

/**
 * Reads a scenarios file (`scenarios:` at the top level, as under keel.yaml's `loadtest:`) and
 * validates it with the config loader's own checks, so every problem names `file:line key` the
 * way keel.yaml's do. `${VAR}` references are resolved from `env`. Throws one {@link ConfigError}
 * listing every problem.
 */
export function readScenarioFile(path: string, env: NodeJS.ProcessEnv = process.env): ScenarioFileContent {
  const displayName = displayPath(path)
  const file = readConfigFile(resolve(path), displayName)
  if (file === undefined) {
    throw new ConfigError([
      { code: 'KEEL_CONFIG_FILE_UNREADABLE', key: '', message: `${displayName}: file not found` },
    ])
  }
  if (Array.isArray(file)) throw new ConfigError(file)
  const schema = loadtestSection.schema
  const sourceAt = (keys: string[]): ValueSource => ({
    kind: 'file',
    file: displayName,
    line: file.lineOf(keys),
  })
  const defaults = leavesOf(Value.Default(schema, {}) as Record<string, unknown>, () => ({ kind: 'default' }))
  const leaves = leavesOf(file.value, sourceAt)
  const issues: ConfigIssue[] = [
    ...interpolateLeaves(leaves, schema, env),
    // The loader calls top-level keys sections; in this file they are keys like any other.
    ...unknownKeys(leaves, schema).map((issue) => ({
      ...issue,
      message: issue.message.replace(/^unknown section/, 'unknown key'),
    })),
  ]
  const { value, sources } = merge([defaults, leaves])
  const sourceOf = (key: string) => findSource(sources, key)
  const reported = new Set(issues.map((issue) => issue.key))
  const badTypes = typeIssues(schema, value, sourceOf).filter((issue) => !reported.has(issue.key))
  issues.push(...badTypes)
  // The section's own check assumes its schema holds, as it does in the config loader.
  if (badTypes.length === 0) {
    for (const problem of scenarioProblems((value as ScenarioFileContent).scenarios)) {
      issues.push({ code: 'KEEL_CONFIG_INVALID', ...problem, source: sourceOf(problem.key) })
    }
  }
  if (issues.length > 0) throw new ConfigError(issues)
  return value as ScenarioFileContent
}

/** A path as users see it: relative to the working directory when inside it. */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), resolve(path))
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : resolve(path)
}
