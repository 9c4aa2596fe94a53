import type { Guard } from '../guard.ts'
import {
  checkBoolean,
  checkHeaderValue,
  checkInteger,
  checkOneOf,
  checkOptionsObject,
  describe,
  invalidOption,
} from './guard-options.ts'

/** A CSP directive's value: source expressions, `true` for a directive without value, `false` to drop a default. */
export type CspDirectiveValue = string | readonly string[] | boolean

/** Options of {@link securityHeaders}; every header has a safe default and `false` turns it off. */
export interface SecurityHeadersOptions {
  /**
   * `Strict-Transport-Security`. Default: 180 days with subdomains. Browsers honour it only over
   * HTTPS, so it is harmless over plain HTTP and right behind a TLS-terminating proxy.
   */
  hsts?: false | { maxAgeSeconds?: number; includeSubDomains?: boolean; preload?: boolean }
  /**
   * `Content-Security-Policy`. Default `default-src 'self'; base-uri 'self'; form-action 'self';
   * object-src 'none'; frame-ancestors 'none'`. `directives` are merged over the defaults
   * (kebab-case names; `false` removes one); `reportOnly` sends `…-Report-Only` instead.
   */
  contentSecurityPolicy?: false | { directives?: Record<string, CspDirectiveValue>; reportOnly?: boolean }
  /** `X-Frame-Options`, mirrored into CSP `frame-ancestors` unless set there. Default `DENY`. */
  frameOptions?: 'DENY' | 'SAMEORIGIN' | false
  /** `Referrer-Policy`. Default `no-referrer`. */
  referrerPolicy?: ReferrerPolicyValue | false
  /** `Cross-Origin-Opener-Policy`. Default `same-origin`. */
  crossOriginOpenerPolicy?: 'same-origin' | 'same-origin-allow-popups' | 'unsafe-none' | false
  /** `Cross-Origin-Resource-Policy`. Default `same-origin`. */
  crossOriginResourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin' | false
  /** `X-Content-Type-Options: nosniff`. Default true. */
  noSniff?: boolean
}

export type ReferrerPolicyValue =
  | 'no-referrer'
  | 'no-referrer-when-downgrade'
  | 'origin'
  | 'origin-when-cross-origin'
  | 'same-origin'
  | 'strict-origin'
  | 'strict-origin-when-cross-origin'
  | 'unsafe-url'

const referrerPolicies: readonly ReferrerPolicyValue[] = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'origin',
  'origin-when-cross-origin',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
]
const defaultHstsMaxAgeSeconds = 15_552_000
const preloadMinimumSeconds = 31_536_000

/**
 * Sets the browser-hardening response headers on every response, error responses included:
 * HSTS, CSP (with `frame-ancestors`), `X-Frame-Options`, `X-Content-Type-Options`,
 * `Referrer-Policy`, `Cross-Origin-Opener-Policy` and `Cross-Origin-Resource-Policy`; and removes
 * an `X-Powered-By` set before it runs (as helmet does; Keel itself never sends one). Options are
 * checked and every header string is built here, once; a request costs one `setHeader` per header
 * and no promise of its own.
 *
 * @example
 * ```ts
 * app.guard(securityHeaders({
 *   contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'] } },
 *   hsts: { maxAgeSeconds: 63_072_000, includeSubDomains: true, preload: true },
 * }))
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): Guard {
  const headers = buildSecurityHeaders(options)
  return {
    name: 'securityHeaders',
    options: Object.fromEntries(headers),
    handle(ctx, next) {
      const { res } = ctx
      for (let i = 0; i < headers.length; i++) res.setHeader(headers[i]![0], headers[i]![1])
      if (res.hasHeader('x-powered-by')) res.removeHeader('x-powered-by')
      return next()
    },
  }
}

/** The `[name, value]` pairs {@link securityHeaders} sets, in order; exported for tests and the docs. */
export function buildSecurityHeaders(options: SecurityHeadersOptions): Array<readonly [string, string]> {
  checkOptionsObject('securityHeaders', options)
  const headers: Array<readonly [string, string]> = []
  const hsts = hstsValue(options.hsts)
  if (hsts) headers.push(['strict-transport-security', hsts])
  checkOneOf('securityHeaders', 'frameOptions', options.frameOptions, ['DENY', 'SAMEORIGIN', false])
  const frameOptions = options.frameOptions ?? 'DENY'
  const csp = options.contentSecurityPolicy
  if (csp !== undefined && csp !== false && (csp === null || typeof csp !== 'object')) {
    throw invalidOption(
      'securityHeaders',
      'contentSecurityPolicy',
      `must be false or { directives, reportOnly }, got ${describe(csp)}`,
    )
  }
  if (csp !== false) {
    checkBoolean('securityHeaders', 'contentSecurityPolicy.reportOnly', csp?.reportOnly)
    const name = csp?.reportOnly ? 'content-security-policy-report-only' : 'content-security-policy'
    headers.push([name, cspValue(csp?.directives ?? {}, frameOptions)])
  }
  if (frameOptions) headers.push(['x-frame-options', frameOptions])
  checkBoolean('securityHeaders', 'noSniff', options.noSniff)
  if (options.noSniff !== false) headers.push(['x-content-type-options', 'nosniff'])
  checkOneOf('securityHeaders', 'referrerPolicy', options.referrerPolicy, [...referrerPolicies, false])
  const referrer = options.referrerPolicy ?? 'no-referrer'
  if (referrer) headers.push(['referrer-policy', referrer])
  const coop = options.crossOriginOpenerPolicy
  checkOneOf('securityHeaders', 'crossOriginOpenerPolicy', coop, [
    'same-origin',
    'same-origin-allow-popups',
    'unsafe-none',
    false,
  ])
  if (coop !== false) headers.push(['cross-origin-opener-policy', coop ?? 'same-origin'])
  const corp = options.crossOriginResourcePolicy
  checkOneOf('securityHeaders', 'crossOriginResourcePolicy', corp, [
    'same-origin',
    'same-site',
    'cross-origin',
    false,
  ])
  if (corp !== false) headers.push(['cross-origin-resource-policy', corp ?? 'same-origin'])
  return headers
}

function hstsValue(hsts: SecurityHeadersOptions['hsts']): string | undefined {
  if (hsts === false) return undefined
  if (hsts !== undefined && (hsts === null || typeof hsts !== 'object'))
    throw invalidOption('securityHeaders', 'hsts', `must be false or an object, got ${describe(hsts)}`)
  const { maxAgeSeconds = defaultHstsMaxAgeSeconds, includeSubDomains = true, preload = false } = hsts ?? {}
  checkInteger('securityHeaders', 'hsts.maxAgeSeconds', maxAgeSeconds, 0)
  checkBoolean('securityHeaders', 'hsts.includeSubDomains', includeSubDomains)
  checkBoolean('securityHeaders', 'hsts.preload', preload)
  if (preload && (!includeSubDomains || maxAgeSeconds < preloadMinimumSeconds)) {
    throw invalidOption(
      'securityHeaders',
      'hsts.preload',
      `requires includeSubDomains and maxAgeSeconds >= ${preloadMinimumSeconds} (one year), as hstspreload.org does`,
    )
  }
  return `max-age=${maxAgeSeconds}${includeSubDomains ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}`
}

const directiveName = /^[a-z][a-z0-9-]*$/
const badSource = /[;,\r\n\0]/

function cspValue(
  overrides: Record<string, CspDirectiveValue>,
  frameOptions: 'DENY' | 'SAMEORIGIN' | false,
): string {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw invalidOption(
      'securityHeaders',
      'contentSecurityPolicy.directives',
      `must be an object of directive names to values, got ${describe(overrides)}`,
    )
  }
  const directives: Record<string, CspDirectiveValue> = {
    'default-src': "'self'",
    'base-uri': "'self'",
    'form-action': "'self'",
    'object-src': "'none'",
  }
  if (frameOptions) directives['frame-ancestors'] = frameOptions === 'DENY' ? "'none'" : "'self'"
  Object.assign(directives, overrides)
  const parts: string[] = []
  for (const [name, value] of Object.entries(directives)) {
    const option = `contentSecurityPolicy.directives["${name}"]`
    if (!directiveName.test(name))
      throw invalidOption(
        'securityHeaders',
        option,
        'is not a directive name (kebab-case, e.g. "script-src")',
      )
    if (value === false) continue
    if (value === true) {
      parts.push(name)
      continue
    }
    const sources = typeof value === 'string' ? [value] : value
    if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string' || badSource.test(s))) {
      throw invalidOption(
        'securityHeaders',
        option,
        `must be a source string or list of them without ";" "," or line breaks, or true/false; got ${describe(value)}`,
      )
    }
    parts.push(sources.length === 0 ? name : `${name} ${sources.join(' ')}`)
  }
  const header = parts.join('; ')
  checkHeaderValue('securityHeaders', 'contentSecurityPolicy', header)
  return header
}
