import type { AppDescription } from '../../app/index.ts'
import { pass, type ReadinessCheck, warn } from './readiness-check.ts'

type GuardDescription = AppDescription['guards'][number]

/** An `auth.*` guard that rejects a request without credentials (`required: false` only offers). */
const authenticates = (guard: GuardDescription) =>
  guard.name.startsWith('auth.') && guard.options?.required !== false

/**
 * Every public route (no guard that authenticates) is rate limited, app-wide, in its group or on
 * the route itself: an unauthenticated endpoint is what scrapers and credential stuffers reach first.
 */
export const rateLimitsCheck: ReadinessCheck = {
  id: 'rate-limits',
  title: 'rate limits on public routes',
  run({ plan }) {
    const { description } = plan
    const isAppLimited = description.guards.some((g) => g.name === 'rateLimit')
    const routes = description.routes.filter((r) => !r.internal)
    const isPublic = (route: (typeof routes)[number]) =>
      ![...description.guards, ...route.guards].some(authenticates)
    const publicRoutes = routes.filter(isPublic)
    if (isAppLimited)
      return pass(`an app-wide rateLimit guard covers every route (${publicRoutes.length} public)`)
    const unlimited = publicRoutes.filter((r) => !r.guards.some((g) => g.name === 'rateLimit'))
    if (unlimited.length === 0)
      return pass(
        publicRoutes.length === 0
          ? 'no public routes'
          : `all ${publicRoutes.length} public routes have a rateLimit guard`,
      )
    return warn(
      `public routes without a rate limit: ${unlimited.map((r) => `${r.method} ${r.path}`).join(', ')}`,
      'add app.guard(rateLimit({ limit: 600, windowMs: 60_000 })) app-wide, or a rateLimit guard on these routes or their group (a Redis store shares counts across replicas)',
    )
  },
}
