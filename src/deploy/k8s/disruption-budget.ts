import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta, selectorLabels } from './labels.ts'

/**
 * At most one pod down at a time for voluntary disruptions (node drains, upgrades).
 * `maxUnavailable: 1` rather than `minAvailable: 1`: with a single replica (staging, or
 * `replicas.min: 1`) a `minAvailable: 1` budget would block every drain forever.
 */
export function disruptionBudget(plan: DeploymentPlan): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(plan),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(plan) },
      // A pod that is not ready protects no capacity; let drains evict it.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  }
}
