import { type TObject, type TSchema, Type } from '@sinclair/typebox'
import fastJson from 'fast-json-stringify'
import type { App } from '../../app/index.ts'
import type { DatabaseModule } from '../../data/index.ts'
import { HttpError, unprocessable } from '../../http/http-error.ts'
import type { Guard, RequestContext } from '../../http/index.ts'
import type { Logger } from '../../log/index.ts'
import type { EndpointAuth, ListEndpoint, ResourceDefinition } from '../definition.ts'
import { resourceSchemas } from '../to-typebox.ts'
import { type RowScope, scopeFor, signedIn } from './access.ts'
import { appResponseCache, type ResponseCacheOptions } from './app-response-cache.ts'
import { decodeCursor } from './cursor.ts'
import { constraintProblem } from './database-errors.ts'
import { exactRows, withExactBigints } from './exact-bigint.ts'
import { FailSoftCache, type ResourceAnswers } from './fail-soft-cache.ts'
import {
  chosenRelations,
  includableRelations,
  includeParameter,
  includeRelated,
  withRelations,
} from './related-rows.ts'
import {
  changeHookFor,
  isResourceChangeSubscriber,
  type ResourceChange,
  type ResourceChangeHook,
  recordServed,
} from './resource-change.ts'
import type { ResponseCache } from './response-cache.ts'
import { type ListRequest, ResourceStatements } from './statements.ts'

/** Options of {@link serveResources}. */
export interface ServeResourcesOptions {
  /** The database module holding the tables (created by the resources' migrations). */
  readonly database: DatabaseModule
  /** The definitions, from `loadResources()`. */
  readonly resources: readonly ResourceDefinition[]
  /** Guards of every resource route, typically `jwtAuth(…)` so requests carry a principal. */
  readonly guards?: readonly Guard[]
  /**
   * Runs after every write, in its transaction (audit entries, webhook jobs). Modules of the app
   * that are `ResourceChangeSubscriber`s add theirs after these (the audit module does for
   * the resources `audit.resources` lists).
   */
  readonly onChange?: readonly ResourceChangeHook[]
  /**
   * Where answers of endpoints with `cache: { ttl }` live. Default: Redis when the app's config has
   * `redis.url` (REDIS_URL, the setting rate limits use), so that a write on one replica drops the
   * answers of every replica; in memory per process otherwise. `{ store: 'memory' }` keeps the
   * per-process cache with Redis configured. A {@link ResponseCache} instance is used as is; you
   * close it. Whatever the store, a cache failure never fails a request (see docs/resources.md).
   */
  readonly cache?: ResponseCache | ResponseCacheOptions
}

/** What {@link serveResources} set up. */
export interface ResourceRoutes {
  /** The answer cache the routes use (`cache.kind` says which). */
  readonly cache: ResponseCache
}

/**
 * Serves resource definitions as REST routes under `/v<version>/<name>`: `GET` (list) and `POST`
 * (create) on the collection, `GET`, `PATCH` and `DELETE` on `/:<primary key>`, for the endpoints
 * each file declares. The routes are typed routes of the app, so validation, problem details,
 * guards and OpenAPI work as for hand-written ones.
 *
 * Fail closed: a query parameter or body field the file does not declare is a 422 naming it; a
 * tenant-scoped resource refuses requests without the tenant claim; under the owner rule, rows of
 * others answer 404 as if they did not exist.
 *
 * @example
 * ```ts
 * const data = database()
 * const app = createApp({ modules: [data] })
 * serveResources(app, { database: data, resources: await loadResources('resources'), guards: [auth.required()] })
 * ```
 */
export function serveResources(app: App, options: ServeResourcesOptions): ResourceRoutes {
  const subscribers = app.modules.filter(isResourceChangeSubscriber)
  const onChange = options.onChange ?? []
  // Asked before any route exists, so a subscriber that refuses a resource leaves no half-served set.
  const hooksOf = new Map(
    options.resources.map((resource) => {
      const served = { app, resource, database: options.database, onChange }
      const added = subscribers.flatMap((subscriber) => subscriber[changeHookFor](served) ?? [])
      return [resource, [...onChange, ...added]] as const
    }),
  )
  recordServed(
    app,
    options.resources.map((resource) => resource.name),
  )
  const cache = new FailSoftCache(appResponseCache(app, options.cache), app.metrics.registry)
  for (const resource of options.resources) {
    serveOne(app, resource, options, hooksOf.get(resource)!, cache.of(resource.name))
  }
  return { cache: cache.cache }
}

function serveOne(
  app: App,
  resource: ResourceDefinition,
  options: ServeResourcesOptions,
  hooks: readonly ResourceChangeHook[],
  cache: ResourceAnswers,
): void {
  const schemas = resourceSchemas(resource)
  const relations = includableRelations(resource, options.resources)
  // Every answer may carry included rows; writes answer without them.
  const row = withRelations(schemas.row, relations)
  const statements = new ResourceStatements(resource)
  const pk = resource.primaryKey
  const base = `/v${resource.version}/${resource.name}`
  const item = `${base}/:${pk}`
  const db = () => options.database.db
  const { list, get, create, update } = resource.endpoints
  const remove = resource.endpoints.delete
  const tags = [resource.name]
  const guardsOf = (auth: EndpointAuth) => [...(options.guards ?? []), ...(auth.isPublic ? [] : [signedIn])]

  /** Runs a write and its hooks in one transaction, then drops the resource's cached answers. */
  const write = async (
    log: Logger,
    statement: { sql: string; params: unknown[] },
    scope: RowScope,
    change: Pick<ResourceChange, 'type' | 'changed'>,
  ): Promise<Record<string, unknown> | undefined> => {
    try {
      const row = await db().transaction(async (tx) => {
        const [raw] = await tx.query(statement.sql, statement.params)
        if (!raw) return undefined
        const written = withExactBigints(raw)
        const event: ResourceChange = {
          resource: resource.name,
          ...change,
          id: written[pk],
          row: written,
          isDeclaredEvent: resource.events.includes(change.type),
          ...(scope.actor ? { actor: scope.actor } : {}),
          ...(scope.tenant ? { tenant: scope.tenant.value } : {}),
        }
        for (const hook of hooks) await hook(event, tx)
        return written
      })
      // After the commit; never throws: a cache failure is logged, the write still succeeds.
      if (row) await cache.invalidate(log)
      return row
    } catch (error) {
      throw constraintProblem(error, resource.name)
    }
  }

  /**
   * Serves from the cache when the endpoint has a policy. The key holds the caller's scope (tenant
   * and owner, as JSON so that no two scopes can spell the same) and the request target; answers
   * are cached as the text the route's serializer writes, so a hit is the same bytes as a fresh
   * answer whatever types the driver gave the row (timestamps are Date objects).
   */
  // Schemas built at run time have no static shape: answers are typed `never` for the route types.
  // Not async: the answer's promise is handed on as it is, without a wrapper's extra ticks (each
  // promise of a request also pays the request context's AsyncLocalStorage hook).
  const cached = (
    ctx: Pick<RequestContext, 'req' | 'res' | 'log'>,
    scope: RowScope,
    ttl: number | undefined,
    serialize: ((value: unknown) => string) | undefined,
    load: () => Promise<unknown>,
  ): Promise<never> => {
    if (!ttl || !serialize) return load() as Promise<never>
    const key = JSON.stringify([scope.tenant?.value ?? null, scope.owner?.value ?? null])
    return cache.answer(ctx, key, ctx.req.url ?? '', ttl, load, serialize) as Promise<never>
  }

  const notFound = (id: unknown) =>
    new HttpError(404, 'KEEL_NOT_FOUND', `${resource.name} ${String(id)} does not exist`)

  if (list) {
    const query =
      relations.length === 0
        ? schemas.listQuery!
        : Type.Object(
            { ...schemas.listQuery!.properties, include: includeParameter(relations) },
            { additionalProperties: false },
          )
    const page = Type.Object({
      items: Type.Array(row),
      [list.pagination.style === 'cursor' ? 'nextCursor' : 'nextOffset']: Type.Union([
        list.pagination.style === 'cursor' ? Type.String() : Type.Integer(),
        Type.Null(),
      ]),
    })
    const listText = list.cache ? serializer(page) : undefined
    const declared = declaredNames(query)
    app.get(
      base,
      {
        summary: `List ${resource.name}`,
        tags,
        guards: guardsOf(list.auth),
        problems: [403, 422],
        query: open(query),
        allowUnknown: { query: true },
        response: { 200: page },
      },
      // Not async, as `cached`: a throw here (an undeclared query key) is answered all the same.
      (ctx) => {
        const scope = scopeFor(resource, list.auth, ctx.principal)
        const values = ctx.query as Record<string, unknown>
        rejectUndeclared(values, declared, 'query', resource.name)
        // then() rather than an async function, as for get below.
        return cached(ctx, scope, list.cache?.ttlSeconds, listText, () => {
          const chosen = chosenRelations(values.include, relations, resource.name)
          const request = listRequest(values, list.pagination.defaultLimit, statements, pk)
          const statement = statements.list(list, request, scope)
          return db()
            .query(statement.sql, statement.params)
            .then((rows) => {
              const more = rows.length > request.limit
              const found = exactRows(rows, request.limit)
              return chosen.length === 0
                ? pageOf(list, statements, request, found, more)
                : includeRelated(db(), found, chosen, ctx.principal).then((items) =>
                    pageOf(list, statements, request, items, more),
                  )
            })
        })
      },
    )
  }

  if (get) {
    const getText = get.cache ? serializer(row) : undefined
    const query = Type.Object({ include: includeParameter(relations) }, { additionalProperties: false })
    const declared = declaredNames(query)
    app.get(
      item,
      {
        summary: `Get one ${resource.name} row`,
        tags,
        guards: guardsOf(get.auth),
        problems: relations.length === 0 ? [403] : [403, 422],
        params: schemas.params,
        ...(relations.length === 0 ? {} : { query: open(query), allowUnknown: { query: true } }),
        response: { 200: row },
      },
      // Not async, as `cached`: a throw here (an undeclared query key) is answered all the same.
      (ctx) => {
        const scope = scopeFor(resource, get.auth, ctx.principal)
        const id = (ctx.params as Record<string, unknown>)[pk]
        // The query is parsed only where it can mean something: get is the hot path.
        const values = relations.length === 0 ? {} : (ctx.query as Record<string, unknown>)
        if (relations.length > 0) rejectUndeclared(values, declared, 'query', resource.name)
        const chosen = chosenRelations(values.include, relations, resource.name)
        // then() rather than an async function: no promise of its own nor one per await, each of
        // which the request context's AsyncLocalStorage hook would also pay for.
        return cached(ctx, scope, get.cache?.ttlSeconds, getText, () => {
          const statement = statements.get(id, scope)
          return db()
            .query(statement.sql, statement.params)
            .then((rows) => {
              const found = rows[0]
              if (!found) throw notFound(id)
              const answer = withExactBigints(found)
              return chosen.length === 0
                ? answer
                : includeRelated(db(), [answer], chosen, ctx.principal).then((rows) => rows[0])
            })
        })
      },
    )
  }

  if (create) {
    const body = schemas.create!
    const declared = declaredNames(body)
    app.post(
      base,
      {
        summary: `Create a ${resource.name} row`,
        tags,
        guards: guardsOf(create.auth),
        problems: [403, 409, 422],
        body: open(body),
        allowUnknown: { body: true },
        response: { 201: row },
      },
      async (ctx) => {
        const scope = scopeFor(resource, create.auth, ctx.principal)
        if (resource.owner && scope.actor === undefined) {
          throw new HttpError(
            401,
            'KEEL_UNAUTHORIZED',
            `${resource.name}: a row's owner is its creator, who must sign in`,
          )
        }
        const values = ctx.body as Record<string, unknown>
        rejectUndeclared(values, declared, 'body', resource.name)
        const row = await write(ctx.log, statements.insert(values, scope), scope, { type: 'created' })
        ctx.status = 201
        ctx.res.setHeader('location', `${base}/${encodeURIComponent(String(row![pk]))}`)
        return row as never
      },
    )
  }

  if (update) {
    const body = schemas.update!
    const declared = declaredNames(body)
    app.patch(
      item,
      {
        summary: `Change fields of a ${resource.name} row`,
        tags,
        guards: guardsOf(update.auth),
        problems: [403, 409, 422],
        params: schemas.params,
        body: open(body),
        allowUnknown: { body: true },
        response: { 200: row },
      },
      async (ctx) => {
        const scope = scopeFor(resource, update.auth, ctx.principal)
        const values = ctx.body as Record<string, unknown>
        rejectUndeclared(values, declared, 'body', resource.name)
        const id = (ctx.params as Record<string, unknown>)[pk]
        const row = await write(ctx.log, statements.update(id, values, scope), scope, {
          type: 'updated',
          changed: Object.keys(values),
        })
        if (!row) throw notFound(id)
        return row as never
      },
    )
  }

  if (remove) {
    app.delete(
      item,
      {
        summary: `Delete a ${resource.name} row`,
        tags,
        guards: guardsOf(remove.auth),
        problems: [403, 409],
        params: schemas.params,
        response: { 204: Type.Null({ description: 'Deleted' }) },
      },
      async (ctx) => {
        const scope = scopeFor(resource, remove.auth, ctx.principal)
        const id = (ctx.params as Record<string, unknown>)[pk]
        const row = await write(ctx.log, statements.delete(id, scope), scope, { type: 'deleted' })
        if (!row) throw notFound(id)
        ctx.status = 204
        return undefined
      },
    )
  }
}

/**
 * Writes an answer as the typed route would for `schema` (fast-json-stringify, the same compiler):
 * declared fields only, Dates as the wire has them. A cached answer is this text.
 */
function serializer(schema: TSchema): (value: unknown) => string {
  return fastJson(schema as TSchema & Record<string, unknown>) as (value: unknown) => string
}

/**
 * The schema without `additionalProperties: false`: the route lets unknown names through so the
 * handler can answer them with a 422 that lists what is declared, instead of a generic 400.
 */
function open(schema: TObject): TObject {
  const { additionalProperties: _, ...rest } = schema
  return rest as TObject
}

/** The list query parameters that are not filters. */
const listOptions = new Set(['q', 'sort', 'limit', 'cursor', 'offset', 'include'])

/**
 * A list request from the validated query: the paging and search options by name, every other
 * (declared) value a filter. Built by assignment rather than rest and spread syntax, which copy
 * through several temporary objects per request.
 */
function listRequest(
  values: Record<string, unknown>,
  defaultLimit: number,
  statements: ResourceStatements,
  pk: string,
): ListRequest {
  const filters: Record<string, unknown> = {}
  for (const name in values) if (!listOptions.has(name)) filters[name] = values[name]
  const { q, sort, limit, cursor, offset } = values
  const request: { -readonly [K in keyof ListRequest]: ListRequest[K] } = {
    filters,
    limit: (limit as number | undefined) ?? defaultLimit,
  }
  if (typeof q === 'string') request.q = q
  if (typeof sort === 'string') request.sort = sort
  if (typeof cursor === 'string') {
    request.cursor = statements.checkCursor(decodeCursor(cursor, (sort as string | undefined) ?? pk))
  }
  if (typeof offset === 'number') request.offset = offset
  return request
}

/** A page of `items`, and where the next one starts when `more` rows follow. */
function pageOf(
  endpoint: ListEndpoint,
  statements: ResourceStatements,
  request: ListRequest,
  items: Record<string, unknown>[],
  more: boolean,
): object {
  if (endpoint.pagination.style === 'offset') {
    return { items, nextOffset: more ? (request.offset ?? 0) + request.limit : null }
  }
  return { items, nextCursor: more ? statements.cursorAfter(items[items.length - 1]!, request.sort) : null }
}

/** The names a schema declares, once per route rather than per request. */
const declaredNames = (schema: TObject): ReadonlySet<string> => new Set(Object.keys(schema.properties))

/** 422 naming every query parameter or body field the resource does not declare. */
function rejectUndeclared(
  values: Record<string, unknown>,
  declared: ReadonlySet<string>,
  part: 'query' | 'body',
  resource: string,
): void {
  const unknown = Object.keys(values).filter((name) => !declared.has(name))
  if (unknown.length === 0) return
  const what = part === 'query' ? 'query parameter' : 'field'
  throw unprocessable(
    unknown.map((name) => ({ pointer: `/${part}/${name}`, message: `undeclared ${what}` })),
    `${resource}: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is not a declared' : 'are not declared'} ${what}${unknown.length === 1 ? '' : 's'}; declared: ${[...declared].join(', ') || '(none)'}`,
  )
}
