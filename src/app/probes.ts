import type { HealthRegistry } from '../health/index.ts'
import { problem, sendProblem } from '../http/problem.ts'
import type { RouteDefinition } from '../http/route.ts'
import type { Lifecycle } from './lifecycle.ts'

/** Paths of the four probes (the `health` config section). */
export interface ProbePaths {
  livePath: string
  readyPath: string
  healthPath: string
  startupPath: string
}

/**
 * The probe routes. `/live` says the process runs; `/startup` that start-up finished; `/ready`
 * that the app takes traffic (ready state, every critical check passing); `/health` gives the
 * full report. Failures answer 503 `application/problem+json` naming each check.
 */
export function probeRoutes(
  paths: ProbePaths,
  lifecycle: Lifecycle,
  health: HealthRegistry,
  service: { name: string; version: string },
): RouteDefinition[] {
  const startedAt = Date.now()
  const notReady = (
    ctx: { res: Parameters<typeof sendProblem>[0] },
    detail: string,
    extra: Record<string, unknown>,
  ) =>
    sendProblem(ctx.res, problem('KEEL_NOT_READY', 503, detail, { state: lifecycle.state, ...extra }), {
      'cache-control': 'no-store',
    })
  return [
    {
      method: 'GET',
      path: paths.livePath,
      internal: true,
      handler: (ctx) => {
        ctx.header('cache-control', 'no-store')
        return { status: 'pass', state: lifecycle.state }
      },
    },
    {
      method: 'GET',
      path: paths.startupPath,
      internal: true,
      handler: (ctx) => {
        if (lifecycle.state === 'ready' || lifecycle.state === 'draining') {
          ctx.header('cache-control', 'no-store')
          return { status: 'pass', state: lifecycle.state }
        }
        notReady(ctx, `the app is ${lifecycle.state}`, {})
      },
    },
    {
      method: 'GET',
      path: paths.readyPath,
      internal: true,
      handler: async (ctx) => {
        if (lifecycle.state !== 'ready') return notReady(ctx, `the app is ${lifecycle.state}`, { checks: [] })
        const report = await health.run()
        if (report.status === 'fail')
          return notReady(ctx, 'a critical health check fails', { checks: report.checks })
        ctx.header('cache-control', 'no-store')
        return { status: report.status, state: lifecycle.state, checks: report.checks }
      },
    },
    {
      method: 'GET',
      path: paths.healthPath,
      internal: true,
      handler: async (ctx) => {
        const report = await health.run()
        const body = {
          status: report.status,
          state: lifecycle.state,
          service: service.name,
          version: service.version,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          checks: report.checks,
        }
        if (report.status === 'fail' || lifecycle.state !== 'ready')
          return notReady(ctx, 'the app is not healthy', body)
        ctx.header('cache-control', 'no-store')
        return body
      },
    },
  ]
}
