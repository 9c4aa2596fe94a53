import { OutcomeCounters } from '../../telemetry/index.ts'
import type { Guard, Next } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import type { RequestContext } from '../route.ts'
import { checkInteger, checkOneOf, checkOptionsObject, describe, invalidOption } from './guard-options.ts'
import { rateLimitMetrics } from './rate-limit-metrics.ts'
import { MemoryRateLimitStore, type RateLimitHit, type RateLimitStore } from './rate-limit-store.ts'

/** What a client is counted by: its address, its principal, the route, or your own function. */
export type RateLimitKey = 'ip' | 'user' | 'route' | ((ctx: RequestContext) => string)

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Requests one key may make per window. */
  limit: number
  /** Window length in milliseconds; a key's window starts at its first request. */
  windowMs: number
  /**
   * `'ip'` (default): `ctx.ip`, which honours `http.trustProxy`. `'user'`: the authenticated
   * principal's id, the IP when there is none. `'route'`: the matched route, shared by every
   * client. A function: any string.
   */
  key?: RateLimitKey
  /** Where counts live. Default: a {@link MemoryRateLimitStore} of this guard's own. */
  store?: RateLimitStore
  /**
   * Names the limit in store keys: guards with the same name on a shared store (Redis) share
   * counts. Default `<key>:<limit>:<windowMs>`; name guards that must count apart. It is also
   * the `limiter` label of the guard's metrics.
   */
  name?: string
  /**
   * When the store fails (Redis unreachable): `'allow'` (default) lets the request through
   * without limit headers, `'reject'` answers 503 `KEEL_RATE_LIMIT_UNAVAILABLE`. Either way the
   * failure is logged at error, at most once per 10 seconds per guard, and counted in
   * `keel_rate_limit_store_errors_total`.
   */
  onStoreError?: 'allow' | 'reject'
}

const logEveryMs = 10_000

/**
 * Limits requests per key in fixed windows and tells clients where they stand with the
 * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy`
 * headers of draft-ietf-httpapi-ratelimit-headers-06 on every response it lets through or
 * refuses. Past the limit: 429 problem `KEEL_RATE_LIMITED` with `Retry-After`.
 *
 * With the default in-memory store a request costs one Map lookup and four `setHeader`s.
 * Each decision is counted in `keel_rate_limit_requests_total{limiter,outcome="allowed|limited"}`
 * of the app the guard is registered on (`limiter` is the guard's `name`).
 *
 * @example
 * ```ts
 * app.guard(rateLimit({ limit: 100, windowMs: 60_000 }))
 * app.post('/login', { guards: [rateLimit({ name: 'login', limit: 5, windowMs: 60_000 })] }, login)
 * // Replicas share counts through Redis when REDIS_URL is set:
 * app.guard(rateLimit({ limit: 100, windowMs: 60_000, store: rateLimitStore(app) }))
 * ```
 */
export function rateLimit(options: RateLimitOptions): Guard {
  checkOptionsObject('rateLimit', options)
  for (const option of ['limit', 'windowMs'] as const) {
    if (options[option] === undefined) throw invalidOption('rateLimit', option, 'is required')
    checkInteger('rateLimit', option, options[option], 1)
  }
  checkOneOf('rateLimit', 'onStoreError', options.onStoreError, ['allow', 'reject'])
  const { limit, windowMs } = options
  const key = options.key ?? 'ip'
  const keyOf = keyFunction(key)
  const keyName = typeof key === 'function' ? 'custom' : key
  const name = options.name ?? `${keyName}:${limit}:${windowMs}`
  if (typeof name !== 'string' || name.length === 0)
    throw invalidOption('rateLimit', 'name', `must be a non-empty string, got ${describe(name)}`)
  const store = options.store ?? new MemoryRateLimitStore()
  if (typeof store?.hit !== 'function')
    throw invalidOption('rateLimit', 'store', 'must have a hit(key, windowMs) method')
  const isRejectingOnError = options.onStoreError === 'reject'
  const prefix = `${name}|`
  const limitText = String(limit)
  const policy = `${limit};w=${Math.max(1, Math.ceil(windowMs / 1000))}`
  const windowText = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`
  let lastLoggedAt = Number.NEGATIVE_INFINITY
  const decisions = new OutcomeCounters(['allowed', 'limited'] as const)
  // Only the outcome this guard's policy can produce gets a series.
  const storeErrorOutcome = isRejectingOnError ? 'rejected' : 'allowed'
  const storeErrors = new OutcomeCounters([storeErrorOutcome])

  const answer = (ctx: RequestContext, next: Next, hit: RateLimitHit) => {
    const remaining = limit - hit.count
    const resetSeconds = Math.max(0, Math.ceil(hit.resetMs / 1000))
    ctx.header('ratelimit-limit', limitText)
    ctx.header('ratelimit-remaining', remaining > 0 ? remaining : 0)
    ctx.header('ratelimit-reset', resetSeconds)
    ctx.header('ratelimit-policy', policy)
    if (remaining < 0) {
      decisions.count('limited')
      throw new HttpError(
        429,
        'KEEL_RATE_LIMITED',
        `more than ${limit} requests in ${windowText}; retry in ${resetSeconds} s`,
        {},
        { 'retry-after': String(resetSeconds) },
      )
    }
    decisions.count('allowed')
    return next()
  }

  const failed = (ctx: RequestContext, next: Next, error: unknown) => {
    storeErrors.count(storeErrorOutcome)
    const now = Date.now()
    if (now - lastLoggedAt >= logEveryMs) {
      lastLoggedAt = now
      ctx.log.error(
        { err: error, guard: 'rateLimit', name, store: store.kind },
        `rate limit store failed; requests are ${isRejectingOnError ? 'refused (503)' : 'let through unlimited'}`,
      )
    }
    if (!isRejectingOnError) return next()
    throw new HttpError(
      503,
      'KEEL_RATE_LIMIT_UNAVAILABLE',
      'the rate limit cannot be checked right now',
      {},
      { 'retry-after': '1' },
    )
  }

  return {
    name: 'rateLimit',
    options: {
      limit,
      windowMs,
      key: keyName,
      name,
      store: store.kind,
      onStoreError: options.onStoreError ?? 'allow',
    },
    attach(host) {
      const metrics = rateLimitMetrics(host.registry)
      decisions.bind(metrics.requests, [name])
      storeErrors.bind(metrics.storeErrors, [name])
    },
    handle(ctx, next) {
      const key = prefix + keyOf(ctx)
      let hit: RateLimitHit | PromiseLike<RateLimitHit>
      try {
        hit = store.hit(key, windowMs)
      } catch (error) {
        return failed(ctx, next, error)
      }
      if (isPromiseLike(hit)) {
        return hit.then(
          (counted) => answer(ctx, next, counted),
          (error: unknown) => failed(ctx, next, error),
        )
      }
      return answer(ctx, next, hit)
    },
  }
}

const isPromiseLike = (value: unknown): value is PromiseLike<RateLimitHit> =>
  typeof (value as PromiseLike<unknown>).then === 'function'

function keyFunction(key: RateLimitKey): (ctx: RequestContext) => string {
  if (typeof key === 'function') return key
  switch (key) {
    case 'ip':
      return (ctx) => ctx.ip
    case 'user':
      // Prefixed so that a user id can never collide with an address.
      return (ctx) => (ctx.principal ? `user:${ctx.principal.id}` : `ip:${ctx.ip}`)
    case 'route':
      return (ctx) => `${ctx.method} ${ctx.route}`
    default:
      throw invalidOption(
        'rateLimit',
        'key',
        `must be "ip", "user", "route" or a function, got ${describe(key)}`,
      )
  }
}
