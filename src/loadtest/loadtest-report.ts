import type { ScenarioResult } from './scenario-result.ts'

/** The outcome of one `keel loadtest` run: what `--json` and `--out` write. */
export interface LoadtestReport {
  /** The base URL the load went to. */
  readonly target: string
  /** `url` when the user named the target; `entry` when the command started the app itself. */
  readonly targetKind: 'url' | 'entry'
  /** The entry module of a started app. */
  readonly entry?: string
  /** ISO time the first scenario started. */
  readonly startedAt: string
  /** False when the target could not be reached; then no scenario ran. */
  readonly reachable: boolean
  /** Why the target could not be reached. */
  readonly unreachableReason?: string
  /** True when every scenario passed every criterion (and the target was reachable). */
  readonly passed: boolean
  readonly scenarios: readonly ScenarioResult[]
}
