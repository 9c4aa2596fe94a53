import type { DeploymentPlan } from '../deployment-plan.ts'

/** The compose services beside the app that observe it. */
export const observabilityServices = ['prometheus', 'grafana', 'otel-collector'] as const

const taken = new Set<string>(['postgres', 'redis', 'nats', ...observabilityServices])

/**
 * The app's service name on the compose network: the service name, unless a backing or an
 * observability service already has it (an app called `postgres`), then `<name>-app`.
 */
export const appServiceName = (plan: DeploymentPlan): string =>
  taken.has(plan.name) ? `${plan.name}-app` : plan.name
