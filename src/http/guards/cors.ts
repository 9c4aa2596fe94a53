import type { Registry } from 'prom-client'
import { boundCounter, OutcomeCounters, perRegistry } from '../../telemetry/index.ts'
import type { Guard } from '../guard.ts'
import {
  checkBoolean,
  checkHeaderName,
  checkInteger,
  checkOptionsObject,
  describe,
  invalidOption,
} from './guard-options.ts'
import { appendVary } from './vary.ts'

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * Who may call: exact origins (`'https://app.example.com'`, scheme and host as the browser
   * sends them, port when not the default), a predicate for patterns, or `'*'` for any origin
   * (not with `credentials`).
   */
  origins: '*' | readonly string[] | ((origin: string) => boolean)
  /** Methods a preflight allows. Default GET, HEAD, PUT, PATCH, POST, DELETE. */
  methods?: readonly string[]
  /**
   * Request headers a preflight allows. Default: the headers the browser asks for
   * (`Access-Control-Request-Headers` is echoed), since the origin check is the boundary.
   */
  allowedHeaders?: readonly string[]
  /** Response headers the page's script may read beyond the CORS-safelisted ones. */
  exposedHeaders?: readonly string[]
  /** Whether the browser sends cookies and may read the response of a credentialed request. Default false. */
  credentials?: boolean
  /** How long a browser may cache a preflight answer (`Access-Control-Max-Age`). Default 600. */
  maxAgeSeconds?: number
}

/**
 * What CORS made of a request: `keel_cors_requests_total{outcome}`. `no_origin`: no `Origin`
 * header (same-origin navigation, a server-side client); `refused`: an origin not allowed, left
 * without CORS headers, which a page's broken cross-origin calls show as.
 */
export type CorsOutcome = 'allowed' | 'preflight' | 'refused' | 'no_origin'

const corsOutcomes: readonly CorsOutcome[] = ['allowed', 'preflight', 'refused', 'no_origin']

const corsMetric = perRegistry((registry: Registry) =>
  boundCounter(registry, {
    name: 'keel_cors_requests_total',
    help: 'Requests the CORS guard saw, by outcome (allowed, preflight: answered 204, refused: origin not allowed, no_origin)',
    labelNames: ['outcome'],
  }),
)

const defaultMethods = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']
type Header = readonly [name: string, value: string]

/**
 * Cross-origin resource sharing for browsers. A request from an allowed origin gets
 * `Access-Control-Allow-Origin` (and the credentials and exposed-headers headers); a preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin is answered 204 here,
 * whether or not the path has an `OPTIONS` route. A disallowed origin gets no CORS headers and
 * the request goes on as if CORS did not exist: the browser blocks the page from reading it.
 * Add it app-wide so preflights of every path reach it.
 *
 * Every header value is built once, here; a request costs a set lookup and a few `setHeader`s.
 * Each request is counted in `keel_cors_requests_total{outcome}` of the app the guard is
 * registered on: a rise in `refused` is a front end calling from an origin nobody listed.
 *
 * @example
 * ```ts
 * app.guard(cors({ origins: ['https://app.example.com'], credentials: true, maxAgeSeconds: 3600 }))
 * ```
 */
export function cors(options: CorsOptions): Guard {
  checkOptionsObject('cors', options)
  const allows = originCheck(options)
  const isAnyOrigin = options.origins === '*'
  checkBoolean('cors', 'credentials', options.credentials)
  checkInteger('cors', 'maxAgeSeconds', options.maxAgeSeconds, 0)
  const methods = headerList('methods', options.methods ?? defaultMethods).map((m) => m.toUpperCase())
  const allowedHeaders = options.allowedHeaders && headerList('allowedHeaders', options.allowedHeaders)
  const exposedHeaders = headerList('exposedHeaders', options.exposedHeaders ?? [])
  const credentials = options.credentials ?? false
  const maxAgeSeconds = options.maxAgeSeconds ?? 600

  const common: Header[] = []
  if (credentials) common.push(['access-control-allow-credentials', 'true'])
  const actual: Header[] = [...common]
  if (exposedHeaders.length > 0) actual.push(['access-control-expose-headers', exposedHeaders.join(', ')])
  const preflight: Header[] = [
    ...common,
    ['access-control-allow-methods', methods.join(', ')],
    ['access-control-max-age', String(maxAgeSeconds)],
  ]
  if (allowedHeaders) preflight.push(['access-control-allow-headers', allowedHeaders.join(', ')])
  const outcomes = new OutcomeCounters(corsOutcomes)

  return {
    name: 'cors',
    options: {
      origins: typeof options.origins === 'function' ? '[function]' : options.origins,
      methods,
      allowedHeaders: allowedHeaders ?? 'as requested',
      exposedHeaders,
      credentials,
      maxAgeSeconds,
    },
    attach(host) {
      outcomes.bind(corsMetric(host.registry), [])
    },
    handle(ctx, next) {
      const { res, req } = ctx
      // The answer depends on Origin, so caches must key on it, even for requests without one.
      if (!isAnyOrigin) appendVary(res, 'Origin')
      const origin = req.headers.origin
      if (origin === undefined) {
        outcomes.count('no_origin')
        return next()
      }
      if (!allows(origin)) {
        outcomes.count('refused')
        return next()
      }
      res.setHeader('access-control-allow-origin', isAnyOrigin ? '*' : origin)
      if (ctx.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        outcomes.count('preflight')
        for (const [name, value] of preflight) res.setHeader(name, value)
        if (!allowedHeaders) {
          appendVary(res, 'Access-Control-Request-Headers')
          const requested = req.headers['access-control-request-headers']
          if (requested) res.setHeader('access-control-allow-headers', requested)
        }
        ctx.status = 204
        return undefined
      }
      for (const [name, value] of actual) res.setHeader(name, value)
      outcomes.count('allowed')
      return next()
    },
  }
}

function originCheck(options: CorsOptions): (origin: string) => boolean {
  const { origins } = options
  if (origins === '*') {
    if (options.credentials === true) {
      throw invalidOption(
        'cors',
        'credentials',
        'cannot be true while options.origins is "*": browsers refuse credentials with a wildcard origin; list the origins, or pass a predicate',
      )
    }
    return () => true
  }
  if (typeof origins === 'function') return origins
  if (!Array.isArray(origins) || origins.length === 0) {
    throw invalidOption(
      'cors',
      'origins',
      `must be "*", a non-empty list of origins or a predicate, got ${describe(origins)}; CORS stays closed without it`,
    )
  }
  const allowed = new Set<string>()
  for (const [i, origin] of origins.entries()) allowed.add(checkOrigin(origin, i))
  return (origin) => allowed.has(origin)
}

function checkOrigin(origin: unknown, index: number): string {
  const option = `origins[${index}]`
  if (origin === '*') {
    throw invalidOption(
      'cors',
      option,
      'is "*" inside a list; pass origins: "*" on its own (never with credentials)',
    )
  }
  if (typeof origin !== 'string')
    throw invalidOption('cors', option, `must be a string, got ${describe(origin)}`)
  let serialized: string
  try {
    serialized = new URL(origin).origin
  } catch {
    serialized = 'null'
  }
  if (serialized === 'null') {
    throw invalidOption(
      'cors',
      option,
      `must be an origin such as "https://app.example.com", got ${describe(origin)} (use a predicate for patterns)`,
    )
  }
  if (serialized !== origin) {
    throw invalidOption(
      'cors',
      option,
      `must be written as the browser sends it: "${serialized}", got ${describe(origin)}`,
    )
  }
  return origin
}

function headerList(option: string, names: readonly string[]): string[] {
  if (!Array.isArray(names)) throw invalidOption('cors', option, `must be a list, got ${describe(names)}`)
  names.forEach((name, i) => {
    checkHeaderName('cors', `${option}[${i}]`, name)
  })
  return [...names]
}
