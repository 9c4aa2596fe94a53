import type { DeploymentPlan } from '../deployment-plan.ts'
import { type Matcher, oneOf } from './promql.ts'

/**
 * Which series belong to the service. Keel's registry adds no `service` label; Prometheus labels
 * every series it scrapes with `job`, and the generated scrape config names the job after the
 * service, so `job` is the service in both compose (static target) and Kubernetes (pod discovery).
 */
export interface ServiceScope {
  readonly job: Matcher
  /**
   * Keeps the app's own traffic: probes and the scrape are counted in `keel_http_requests_total`
   * too (a draining pod's 503 on /ready is not a failed user request, and 1 ms probes would pull
   * the p99 down). Absent when the app has no internal routes.
   */
  readonly ownRoutes?: Matcher
}

/** The scope of `plan`'s service. */
export function serviceScope(plan: DeploymentPlan): ServiceScope {
  const internal = [...new Set(plan.description.routes.filter((r) => r.internal).map((r) => r.path))].sort()
  return {
    job: ['job', '=', plan.name],
    ...(internal.length > 0 ? { ownRoutes: ['route', '!~', oneOf(internal)] as Matcher } : {}),
  }
}

/** The job matcher plus, for HTTP series, the own-routes matcher. */
export const httpScope = (scope: ServiceScope): Matcher[] =>
  scope.ownRoutes ? [scope.job, scope.ownRoutes] : [scope.job]
