import type { Registry } from 'prom-client'
import type { Logger } from '../../log/index.ts'
import { type ResourceCacheCounters, resourceCacheMetrics } from './resource-cache-metrics.ts'
import type { ResponseCache } from './response-cache.ts'

const logEveryMs = 10_000

/**
 * The resource routes' use of a {@link ResponseCache}, with their failure policy: the cache is an
 * optimisation, so no cache failure ever fails a request.
 *
 * - A lookup or store that fails (Redis down or slow) answers from the database, as a miss; a
 *   warning is logged at most once per 10 s, not per request.
 * - An invalidation that fails does not fail the write (it has committed); other replicas may serve
 *   the resource's old answers until their TTL runs out, so it is logged at error (at most once
 *   per 10 s per resource, with the number of failures since the last line).
 *
 * Every failure counts in `keel_resource_cache_total{result="error"}`.
 */
export class FailSoftCache {
  readonly cache: ResponseCache
  readonly #metrics: (resource: string) => ResourceCacheCounters
  readonly #readFailures = new LogThrottle()
  readonly #invalidationFailures = new LogThrottle()

  constructor(cache: ResponseCache, registry: Registry) {
    this.cache = cache
    this.#metrics = resourceCacheMetrics(registry)
  }

  /** The cache of one resource, its counters bound once rather than per request. */
  of(resource: string): ResourceAnswers {
    const counters = this.#metrics(resource)
    return {
      answer: (ctx, scope, target, ttlSeconds, load, serialize) =>
        this.#answer(ctx, resource, counters, scope, target, ttlSeconds, load, serialize),
      invalidate: (log) => this.#invalidate(log, resource, counters),
    }
  }

  async #answer(
    ctx: AnswerContext,
    resource: string,
    counters: ResourceCacheCounters,
    scope: string,
    target: string,
    ttlSeconds: number,
    load: () => Promise<unknown>,
    serialize: (value: unknown) => string,
  ): Promise<unknown> {
    let key: string | undefined
    try {
      const found = await this.cache.get(resource, scope, target)
      if (found.body !== undefined) {
        counters.hit.inc()
        ctx.res.setHeader('x-cache', 'hit')
        return json(ctx, found.body)
      }
      counters.miss.inc()
      key = found.key
    } catch (error) {
      counters.error.inc()
      this.#warn(ctx.log, resource, error)
    }
    ctx.res.setHeader('x-cache', 'miss')
    const value = await load()
    if (key === undefined) return value
    // Serialized here rather than by the route, once: the same text is cached and sent.
    const body = serialize(value)
    try {
      // Awaited, so that the next request (on any replica) finds it; a miss already paid a query.
      await this.cache.set(key, body, ttlSeconds)
    } catch (error) {
      counters.error.inc()
      this.#warn(ctx.log, resource, error)
    }
    return json(ctx, body)
  }

  async #invalidate(log: Logger, resource: string, counters: ResourceCacheCounters): Promise<void> {
    try {
      await this.cache.invalidate(resource)
    } catch (error) {
      counters.error.inc()
      const failures = this.#invalidationFailures.pass(resource)
      if (failures === undefined) return
      log.error(
        { err: error, resource, store: this.cache.kind, failures },
        'resource cache invalidation failed; the write is committed, but replicas may answer its old rows until their cache TTL runs out',
      )
    }
  }

  #warn(log: Logger, resource: string, error: unknown): void {
    const failures = this.#readFailures.pass('')
    if (failures === undefined) return
    log.warn(
      { err: error, resource, store: this.cache.kind, failures },
      'resource cache unavailable; answering from the database',
    )
  }
}

/** What a request handler needs: its logger and the response, for `x-cache`. */
export interface AnswerContext {
  readonly log: Logger
  readonly res: { setHeader(name: string, value: string): unknown }
}

/** JSON text as the answer: a typed route sends a string as it is, with the type set here. */
function json(ctx: AnswerContext, body: string): string {
  ctx.res.setHeader('content-type', 'application/json; charset=utf-8')
  return body
}

/** One resource's side of a {@link FailSoftCache}. */
export interface ResourceAnswers {
  /**
   * The cached answer of `target` within `scope`, else `load()`'s, cached for `ttlSeconds` as
   * `serialize` writes it (the route's response serializer). Answers are JSON text, which the
   * typed route sends as is; only a failed lookup answers with `load()`'s value itself.
   * Sets `x-cache: hit|miss`.
   */
  answer(
    ctx: AnswerContext,
    scope: string,
    target: string,
    ttlSeconds: number,
    load: () => Promise<unknown>,
    serialize: (value: unknown) => string,
  ): Promise<unknown>
  /** Drops the resource's cached answers after a committed write; never throws. */
  invalidate(log: Logger): Promise<void>
}

/** Lets one log line per key through every 10 s, counting the failures in between. */
class LogThrottle {
  readonly #state = new Map<string, { at: number; failures: number }>()

  /** The failures since the last line (this one included) when a line is due, else `undefined`. */
  pass(key: string): number | undefined {
    const now = Date.now()
    const state = this.#state.get(key)
    if (!state) {
      this.#state.set(key, { at: now, failures: 0 })
      return 1
    }
    state.failures++
    if (now - state.at < logEveryMs) return undefined
    const failures = state.failures
    state.at = now
    state.failures = 0
    return failures
  }
}
