import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta } from './labels.ts'
import { trafficPort } from './names.ts'

/** The TLS Secret of the Ingress: `deploy.ingress.tlsSecret`, or `<name>-tls`. */
export const tlsSecretName = (plan: DeploymentPlan): string =>
  plan.deploy.ingress.tlsSecret || `${plan.name}-tls`

/**
 * An Ingress for `deploy.ingress.host`, TLS only, sending every path to the Service's traffic
 * port; `undefined` when no host is set (the app is then reached inside the cluster only).
 */
export function ingress(plan: DeploymentPlan): IIngress | undefined {
  const { host, className } = plan.deploy.ingress
  if (!host) return undefined
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: objectMeta(plan),
    spec: {
      ...(className ? { ingressClassName: className } : {}),
      tls: [{ hosts: [host], secretName: tlsSecretName(plan) }],
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: plan.name, port: { name: trafficPort(plan).name } } },
              },
            ],
          },
        },
      ],
    },
  }
}
