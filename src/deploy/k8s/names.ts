import { KeelError } from '../../errors/index.ts'
import type { DeploymentPlan } from '../deployment-plan.ts'

/** The ConfigMap generator's name; kustomize appends a hash of the content. */
export const configMapName = (plan: DeploymentPlan): string => `${plan.name}-config`

/** The Secret the pod takes its environment from; created by the operator, never generated. */
export const secretName = (plan: DeploymentPlan): string => `${plan.name}-secrets`

/** Where the image's server looks for its configuration (WORKDIR /app, beside server.mjs). */
export const configPath = '/app/keel.yaml'

/**
 * The numeric user and group the container runs as: the one the generated Dockerfile creates.
 * Numeric, because `runAsNonRoot` can only verify a numeric user.
 */
export const runAsId = 10001

/** The port that serves traffic: the first one the app declares. */
export const trafficPort = (plan: DeploymentPlan): DeploymentPlan['ports'][number] => {
  const port = plan.ports[0]
  if (!port) throw new KeelError('KEEL_ENTRY_INVALID', `keel gen k8s: the app ${plan.name} declares no port`)
  return port
}

/**
 * Seconds the preStop hook waits before the container gets SIGTERM: the drain delay, so endpoint
 * removal reaches every kube-proxy and ingress controller while the pod still serves normally.
 */
export const preStopSeconds = (plan: DeploymentPlan): number => Math.ceil(plan.shutdown.drainDelayMs / 1000)

/** The pod's grace period: the plan's, which already covers the preStop sleep (see DeploymentPlan). */
export const gracePeriodSeconds = (plan: DeploymentPlan): number => plan.terminationGracePeriodSeconds

/** The staging overlay's namespace: `<namespace>-staging`, within the 63 characters of a label. */
export const stagingNamespace = (plan: DeploymentPlan): string =>
  `${plan.namespace.slice(0, 63 - '-staging'.length).replace(/-+$/, '')}-staging`
