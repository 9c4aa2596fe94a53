import { canonicalJson, compareText } from './canonical-json.ts'
import type { OpenApiGuard, OpenApiSecurityScheme } from './types.ts'

/** A security scheme an auth guard checks, with the component name it asks for. */
export interface GuardScheme {
  scheme: OpenApiSecurityScheme
  /** `options.securityScheme` of the guard; else `bearerAuth`, `apiKeyAuth`. */
  preferredName: string
  /** The guard lets requests without credentials through (`required: false`). */
  isOptional: boolean
}

/** What a route's guards add to its operation. */
export interface GuardEffects {
  schemes: GuardScheme[]
  /** An `auth.authorize` guard needs a principal (so some scheme must succeed). */
  needsPrincipal: boolean
  /** Alternatives of scopes and roles the `auth.authorize` guards accept; `[[]]` when none. */
  scopeSets: string[][]
  /** Error statuses the guards answer: 401, 403, 413, 429, 504. */
  statuses: Set<number>
}

const normal = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '')
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined
const texts = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []

/** Guards whose only effect on an operation is one more error status it can answer. */
const statusOfGuard: Readonly<Record<string, number>> = {
  ratelimit: 429,
  ipfilter: 403,
  bodylimit: 413,
  timeout: 504,
}

/**
 * Reads guards by name: `auth.jwt` → an HTTP bearer scheme, `auth.apiKey` → an apiKey scheme
 * (`in` and the header, query or cookie name from its options), `auth.authorize` (or
 * `auth.require`) → the scopes and roles of the requirement, 401 and 403; `rateLimit` → 429,
 * `ipFilter` → 403, `bodyLimit` → 413, `timeout` → 504. Names compare without case or
 * punctuation (`rate-limit` is `rateLimit`); guards with other names are ignored.
 */
export function guardEffects(guards: readonly OpenApiGuard[]): GuardEffects {
  const effects: GuardEffects = { schemes: [], needsPrincipal: false, scopeSets: [[]], statuses: new Set() }
  for (const guard of guards) {
    const options = guard.options ?? {}
    switch (normal(guard.name)) {
      case 'authjwt':
      case 'authapikey': {
        const isJwt = normal(guard.name) === 'authjwt'
        const scheme = isJwt ? httpScheme(options) : apiKeyScheme(options)
        if (!scheme) break
        const fallback = scheme.type === 'apiKey' ? 'apiKeyAuth' : `${scheme.scheme}Auth`
        effects.schemes.push({
          scheme,
          preferredName: (text(options.securityScheme) ?? fallback).replace(/[^A-Za-z0-9._-]/g, '_'),
          isOptional: options.required === false || options.optional === true,
        })
        effects.statuses.add(401)
        break
      }
      case 'authauthorize':
      case 'authrequire':
        effects.needsPrincipal = true
        effects.scopeSets = combine(effects.scopeSets, scopeAlternatives(options))
        effects.statuses.add(401).add(403)
        break
      default: {
        const status = statusOfGuard[normal(guard.name)]
        if (status) effects.statuses.add(status)
      }
    }
  }
  return effects
}

/** `match: 'all'` (default): one set with every scope and role; `any`: one scope and one role of the lists. */
function scopeAlternatives(options: Readonly<Record<string, unknown>>): string[][] {
  const scopes = texts(options.scopes)
  const roles = texts(options.roles)
  if (options.match !== 'any') return [[...scopes, ...roles]]
  const pick = (list: string[]) => (list.length === 0 ? [[]] : list.map((item) => [item]))
  return combine(pick(scopes), pick(roles))
}

/** Every set of `a` joined with every set of `b` (guards one after another must all pass). */
const combine = (a: string[][], b: string[][]): string[][] =>
  a.flatMap((left) => b.map((right) => [...new Set([...left, ...right])]))

function httpScheme(options: Readonly<Record<string, unknown>>): OpenApiSecurityScheme {
  const scheme = text(options.scheme)?.toLowerCase() ?? 'bearer'
  if (scheme !== 'bearer') return { type: 'http', scheme }
  return { type: 'http', scheme, bearerFormat: text(options.bearerFormat) ?? 'JWT' }
}

function apiKeyScheme(options: Readonly<Record<string, unknown>>): OpenApiSecurityScheme | undefined {
  const where = options.in === 'query' || options.in === 'cookie' ? options.in : 'header'
  const name = text(options[where]) ?? text(options.name) ?? (where === 'header' ? 'x-api-key' : undefined)
  return name ? { type: 'apiKey', in: where, name } : undefined
}

/**
 * Requirement alternatives of one operation: every required scheme together; when all are
 * optional, any one of them (or none, unless an `auth.authorize` guard needs a principal).
 * Each scheme carries the scopes and roles of one alternative of the authorize guards.
 */
export function securityRequirements(
  effects: GuardEffects,
  nameOf: (scheme: OpenApiSecurityScheme) => string,
): Array<Record<string, string[]>> {
  if (effects.schemes.length === 0) return []
  const required = effects.schemes.filter((s) => !s.isOptional)
  const schemeSets = required.length > 0 ? [required] : effects.schemes.map((s) => [s])
  const out: Array<Record<string, string[]>> = []
  for (const schemes of schemeSets) {
    for (const scopes of effects.scopeSets) {
      const requirement: Record<string, string[]> = {}
      for (const { scheme } of schemes) requirement[nameOf(scheme)] = [...scopes]
      out.push(requirement)
    }
  }
  if (required.length === 0 && !effects.needsPrincipal) out.push({})
  return out
}

/**
 * Names the distinct schemes of a document: each gets the name its guard asks for
 * (`bearerAuth` by default); different schemes asking for one name get `_2`, `_3` in the order
 * of their content, so names do not depend on the order routes were added.
 */
export function nameSchemes(schemes: readonly GuardScheme[]): Map<string, string> {
  const byContent = new Map<string, string>()
  for (const { scheme, preferredName } of schemes) {
    const key = canonicalJson(scheme)
    const current = byContent.get(key)
    // One scheme asked for under two names: the first name in text order wins.
    if (current === undefined || compareText(preferredName, current) < 0) byContent.set(key, preferredName)
  }
  const names = new Map<string, string>()
  const used = new Map<string, number>()
  for (const key of [...byContent.keys()].sort(compareText)) {
    const base = byContent.get(key)!
    const count = (used.get(base) ?? 0) + 1
    used.set(base, count)
    names.set(key, count === 1 ? base : `${base}_${count}`)
  }
  return names
}
