import { KeelError } from '../../errors/index.ts'
import { compareText } from './canonical-json.ts'
import { type GuardEffects, guardEffects } from './guard-effects.ts'
import { operationIdFor } from './operation-id.ts'
import { openApiPaths, type TemplateParam } from './path-template.ts'
import type { OpenApiMethod, OpenApiRoute, OpenApiSource } from './types.ts'

/** OpenAPI's order of methods in a path item. */
export const METHODS: readonly OpenApiMethod[] = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
]

/** One operation of the document: a route at one of its OpenAPI paths. */
export interface OperationEntry {
  path: string
  method: OpenApiMethod
  route: OpenApiRoute
  pathParams: TemplateParam[]
  /** 0 for the route's own path; 1 for the second path of an optional parameter. */
  variant: number
  effects: GuardEffects
  operationId: string
}

/**
 * The operations of the routes, sorted by path and method, each with a unique operationId.
 * Internal routes are left out unless `includeInternal`.
 */
export function operationEntries(source: OpenApiSource, includeInternal: boolean): OperationEntry[] {
  const entries: OperationEntry[] = []
  for (const route of source.routes) {
    if (route.internal && !includeInternal) continue
    const method = route.method.toLowerCase() as OpenApiMethod
    if (!METHODS.includes(method)) continue
    // Internal routes skip the app-wide guards unless they ask for them, as the server runs them.
    const effects = guardEffects(
      route.internal && !route.appGuards ? route.guards : [...source.guards, ...route.guards],
    )
    openApiPaths(route.path).forEach(({ path, params }, variant) => {
      entries.push({ path, method, route, pathParams: params, variant, effects, operationId: '' })
    })
  }
  entries.sort((a, b) => compareText(a.path, b.path) || METHODS.indexOf(a.method) - METHODS.indexOf(b.method))
  for (let i = 1; i < entries.length; i++) {
    const [a, b] = [entries[i - 1]!, entries[i]!]
    if (a.path === b.path && a.method === b.method) {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `openapi: routes ${a.route.method} ${a.route.path} and ${b.route.method} ${b.route.path} are the same operation ${a.method.toUpperCase()} ${a.path}`,
      )
    }
  }
  assignOperationIds(entries)
  return entries
}

/** Explicit ids stay (two routes with one id are an error); derived ones get `_2`, `_3` on a clash. */
function assignOperationIds(entries: OperationEntry[]): void {
  const used = new Map<string, OperationEntry>()
  for (const entry of entries) {
    const explicit = entry.route.schema?.operationId
    if (!explicit || entry.variant !== 0) continue
    const other = used.get(explicit)
    if (other) {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `openapi: routes ${other.route.method} ${other.route.path} and ${entry.route.method} ${entry.route.path} have the same operationId "${explicit}"`,
      )
    }
    used.set(explicit, entry)
    entry.operationId = explicit
  }
  for (const entry of entries) {
    if (entry.operationId !== '') continue
    const base = entry.route.schema?.operationId || operationIdFor(entry.method, entry.path)
    let id = base
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`
    used.set(id, entry)
    entry.operationId = id
  }
}
