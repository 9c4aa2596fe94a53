import type { LoadtestReport } from './loadtest-report.ts'
import { measureScenario, type ScenarioProgress } from './measure-scenario.ts'
import { unreachableReason } from './reachability.ts'
import type { Scenario } from './scenario.ts'
import { scenarioResult } from './scenario-result.ts'

/** Options of {@link runLoadtest}. */
export interface RunLoadtestOptions {
  /** The base URL to send load to; request paths are appended to its path. */
  readonly target: string
  readonly targetKind: 'url' | 'entry'
  readonly entry?: string
  /** Called about once a second while a scenario runs. */
  readonly onProgress?: (progress: ScenarioProgress) => void
  /** Called when a scenario is done, before the next starts. */
  readonly onScenarioDone?: (scenario: Scenario) => void
}

/**
 * Runs scenarios one after the other against a target and judges each against its criteria.
 * The target is tried first: an unreachable one ends the run at once with `reachable: false`.
 *
 * @example
 * ```ts
 * const report = await runLoadtest(scenariosFrom(config.loadtest.scenarios), { target: 'http://127.0.0.1:3000', targetKind: 'url' })
 * report.passed // false when any criterion failed
 * ```
 */
export async function runLoadtest(
  scenarios: readonly Scenario[],
  options: RunLoadtestOptions,
): Promise<LoadtestReport> {
  const target = new URL(options.target)
  const startedAt = new Date().toISOString()
  const base = { target: options.target, targetKind: options.targetKind, entry: options.entry, startedAt }
  const reason = await unreachableReason(target)
  if (reason !== undefined) {
    return { ...base, reachable: false, unreachableReason: reason, passed: false, scenarios: [] }
  }
  const results = []
  for (const scenario of scenarios) {
    const measurement = await measureScenario(scenario, { target, onProgress: options.onProgress })
    results.push(scenarioResult(scenario, measurement))
    options.onScenarioDone?.(scenario)
  }
  return { ...base, reachable: true, passed: results.every((result) => result.passed), scenarios: results }
}
