import type { IService } from 'kubernetes-models/v1/Service'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta, selectorLabels } from './labels.ts'

/** A ClusterIP Service with one named port per port the app listens on. */
export function service(plan: DeploymentPlan): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(plan),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(plan),
      ports: plan.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP' })),
    },
  }
}
