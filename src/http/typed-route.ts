import type { TSchema } from '@sinclair/typebox'
import fastJson from 'fast-json-stringify'
import { KeelError } from '../errors/index.ts'
import { registerFormats } from './formats.ts'
import { type Violation, validationError } from './http-error.ts'
import { readJsonBody } from './read-body.ts'
import { compilePart, type PartValidator } from './request-validator.ts'
import { setTextType } from './respond.ts'
import type { RequestContext, RouteDefinition, RouteHandler } from './route.ts'
import type { RouteOptions } from './route-schema.ts'

registerFormats()

/** Default largest JSON body, when neither the route nor `http.bodyLimitBytes` says. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024

type Mutable = { params: unknown; query: unknown; headers: unknown; body: unknown }

/**
 * Builds the handler of a typed route: it validates params, query, headers and the JSON body
 * (all violations reported at once, as a 400 with JSON pointers), calls `handler` with typed
 * values, and serializes the response through the schema declared for its status, so fields
 * the schema does not declare never leave the server.
 */
export function typedHandler(
  options: RouteOptions,
  handler: (ctx: never) => unknown,
  bodyLimitBytes: number,
): RouteHandler {
  const allowUnknown = options.allowUnknown ?? {}
  const strings: PartValidator[] = []
  if (options.params) strings.push(compilePart('params', options.params, false))
  if (options.query) strings.push(compilePart('query', options.query, !allowUnknown.query))
  if (options.headers) strings.push(compilePart('headers', options.headers, false))
  const body = options.body ? compilePart('body', options.body, !allowUnknown.body) : undefined
  const rejectsQuery = !options.query && !allowUnknown.query
  const rejectsBody = !options.body && !allowUnknown.body
  const serializers = compileSerializers(options.response)
  const routeLimit = options.bodyLimitBytes
  const limit = routeLimit ?? bodyLimitBytes
  const call = handler as (ctx: RequestContext) => unknown

  const run = (ctx: RequestContext, violations: Violation[]): unknown => {
    if (violations.length > 0) throw validationError(violations)
    const result = call(ctx)
    return serializers ? serializeWith(serializers, ctx, result) : result
  }
  return (ctx) => {
    const violations = validateStrings(ctx, strings, rejectsQuery)
    if (!body) {
      if (rejectsBody && hasBody(ctx.req.headers)) violations.push(undeclaredBody)
      return run(ctx, violations)
    }
    // A bodyLimit() guard on the way replaces the configured default and caps the route's own limit.
    const guarded = (ctx as { bodyLimitBytes?: number }).bodyLimitBytes
    const max = guarded === undefined ? limit : Math.min(guarded, routeLimit ?? guarded)
    return readJsonBody(ctx.req, max).then((raw) => {
      const outcome = body.validate(raw)
      if ('violations' in outcome) violations.push(...outcome.violations)
      else (ctx as unknown as Mutable).body = outcome.value
      return run(ctx, violations)
    })
  }
}

function validateStrings(
  ctx: RequestContext,
  validators: PartValidator[],
  rejectsQuery: boolean,
): Violation[] {
  const violations: Violation[] = []
  const target = ctx as unknown as Mutable
  for (const validator of validators) {
    const outcome = validator.validate(target[validator.part])
    if ('violations' in outcome) violations.push(...outcome.violations)
    else target[validator.part] = outcome.value
  }
  if (rejectsQuery) {
    for (const name of Object.keys(ctx.query)) {
      violations.push({
        pointer: `/query/${name}`,
        message: 'unknown value: this route declares no query parameters',
      })
    }
  }
  return violations
}

// Fail closed: a body sent to a route that declares none is a client mistake (a field the route
// would drop), answered like an unknown query parameter. The body itself is never read.
const undeclaredBody: Violation = { pointer: '/body', message: 'unknown value: this route declares no body' }

function hasBody(headers: RequestContext['req']['headers']): boolean {
  const length = headers['content-length']
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

type Serializers = Map<number, (value: unknown) => string>

function compileSerializers(response: RouteOptions['response']): Serializers | undefined {
  if (!response) return undefined
  const serializers: Serializers = new Map()
  for (const [status, schema] of Object.entries(response)) {
    serializers.set(
      Number(status),
      fastJson(schema as TSchema & Record<string, unknown>) as (value: unknown) => string,
    )
  }
  return serializers
}

function serializeWith(serializers: Serializers, ctx: RequestContext, result: unknown): unknown {
  // An inline arrow, not a named closure: under esbuild's keepNames (tsx, keel build) every named
  // closure made per request also costs a defineProperty call.
  return result instanceof Promise
    ? result.then((body) => serialized(serializers, ctx, body))
    : serialized(serializers, ctx, result)
}

function serialized(serializers: Serializers, ctx: RequestContext, body: unknown): unknown {
  if (body === undefined || body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return body
  const serialize = serializers.get(ctx.status)
  if (!serialize) {
    // Fail closed: without a schema for this status nothing says which fields may leave.
    throw new KeelError(
      'KEEL_INTERNAL',
      `${ctx.method} ${ctx.route} answered ${ctx.status}, a status its response schemas do not declare (declared: ${[...serializers.keys()].join(', ')})`,
    )
  }
  setTextType(ctx, 'application/json; charset=utf-8')
  return serialize(body)
}

export type { RouteDefinition }
