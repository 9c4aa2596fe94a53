import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta } from './labels.ts'

/**
 * Scales the Deployment between `deploy.replicas.min` and `max` on CPU. Up fast (double or add
 * four pods every 15 s, no stabilization) because overload hurts now; down slowly (one pod a
 * minute after five calm minutes) because a scale-down that must be undone costs two cold starts.
 */
export function autoscaler(plan: DeploymentPlan): IHorizontalPodAutoscaler {
  const { replicas } = plan.deploy
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMeta(plan),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: plan.name },
      minReplicas: replicas.min,
      maxReplicas: replicas.max,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: replicas.targetCpuPercent },
          },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Percent', value: 100, periodSeconds: 15 },
            { type: 'Pods', value: 4, periodSeconds: 15 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          selectPolicy: 'Min',
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
      },
    },
  }
}
