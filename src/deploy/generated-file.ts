import type { DeploymentPlan } from './deployment-plan.ts'

/** One file a generator writes, relative to `--out`. */
export interface GeneratedFile {
  /** Relative path with forward slashes, e.g. `k8s/base/deployment.yaml`. */
  readonly path: string
  readonly content: string
}

/** A `keel gen` target: turns the plan into files; pure, so the same app gives the same bytes. */
export type Generator = (plan: DeploymentPlan) => GeneratedFile[]
