import type { INamespace } from 'kubernetes-models/v1/Namespace'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { standardLabels } from './labels.ts'

/**
 * The app's namespace, enforcing the `restricted` Pod Security Standard: the generated pod meets
 * it, and so must anything else placed there.
 */
export function namespace(plan: DeploymentPlan): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: plan.namespace,
      labels: {
        ...standardLabels(plan),
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  }
}
