import type { KernelConfig } from '../config/index.ts'
import type { HttpServer } from '../http/http-server.ts'
import { internalServer } from '../http/internal-server.ts'
import type { RouteDefinition } from '../http/route.ts'
import { Router } from '../http/router.ts'
import type { Logger } from '../log/index.ts'
import type { KeelMetrics } from '../telemetry/index.ts'
import { isOwnPort } from './own-port.ts'

/** Whether `/metrics` has a port of its own: `metrics.port` set and not the main port (0 = any free port). */
export function hasOwnMetricsPort({ metrics, server }: Pick<KernelConfig, 'metrics' | 'server'>): boolean {
  return isOwnPort(metrics.port, server.port)
}

/** The Prometheus exposition route; internal, so it is not traced and skips app-wide guards. */
export function metricsRoute(path: string, metrics: KeelMetrics): RouteDefinition {
  return {
    method: 'GET',
    path,
    internal: true,
    handler: async (ctx) => {
      ctx.header('content-type', metrics.contentType)
      return await metrics.render()
    },
  }
}

/** A server that answers only the metrics route, for `metrics.port`; it writes no access log. */
export function metricsServer(
  route: RouteDefinition,
  options: { log: Logger; server: KernelConfig['server'] },
): HttpServer {
  const router = new Router()
  router.add(route)
  return internalServer(router, { log: options.log, ...options.server })
}
