import { STATUS_CODES } from 'node:http'
import type { DocumentedProblemStatus } from '../route-schema.ts'
import type { OperationEntry } from './operation-entries.ts'
import type { ProblemResponseName } from './problem-responses.ts'
import type { SchemaComponents } from './schema-components.ts'
import type { OpenApiReference, OpenApiResponse } from './types.ts'

/**
 * The responses of an operation: one per status its route declares, then references to the
 * problem responses that can happen to it (a status the route declares wins).
 */
export function operationResponses(
  entry: OperationEntry,
  components: SchemaComponents,
  where: string,
): Record<string, OpenApiResponse | OpenApiReference> {
  const schema = entry.route.schema
  const out: Record<string, OpenApiResponse | OpenApiReference> = {}
  for (const [status, response] of Object.entries(schema?.response ?? {})) {
    out[status] = declaredResponse(Number(status), response, components, `${where} response ${status}`)
  }
  if (Object.keys(out).length === 0)
    out['200'] = { description: 'OK (the route declares no response schema)' }
  for (const [status, name] of problemStatuses(entry)) {
    out[status] ??= { $ref: `#/components/responses/${name}` }
  }
  // Integer-like keys iterate in numeric order: the responses come out sorted by status.
  return out
}

function declaredResponse(
  status: number,
  schema: unknown,
  components: SchemaComponents,
  where: string,
): OpenApiResponse {
  const source = (schema ?? {}) as { type?: unknown; description?: unknown }
  const description =
    typeof source.description === 'string' ? source.description : (STATUS_CODES[status] ?? 'Response')
  if (status === 204 || status === 304) return { description }
  // Strings are sent as they are (text/plain); everything else as JSON.
  const type = source.type === 'string' ? 'text/plain' : 'application/json'
  return { description, content: { [type]: { schema: components.convert(schema, where) } } }
}

/** The error statuses an operation can answer with, and the component describing each. */
function problemStatuses(entry: OperationEntry): Map<number, ProblemResponseName> {
  const { route, effects, pathParams } = entry
  const schema = route.schema
  const statuses = new Map<number, ProblemResponseName>()
  if (schema) {
    const validates = schema.params || schema.query || schema.headers || schema.body
    if (validates || !schema.allowUnknown?.query)
      statuses.set(400, schema.body ? 'BadRequest' : 'ValidationFailed')
  }
  if (effects.statuses.has(401)) statuses.set(401, 'Unauthorized')
  if (effects.statuses.has(403)) statuses.set(403, 'Forbidden')
  if (pathParams.length > 0) statuses.set(404, 'NotFound')
  if (schema?.body || effects.statuses.has(413)) statuses.set(413, 'ContentTooLarge')
  if (schema?.body) statuses.set(415, 'UnsupportedMediaType')
  for (const status of schema?.problems ?? []) {
    const name = declaredProblems[status]
    if (!statuses.has(status)) statuses.set(status, name)
  }
  if (effects.statuses.has(429)) statuses.set(429, 'TooManyRequests')
  statuses.set(500, 'InternalError')
  // Routes that are not internal answer 503 while the app starts.
  if (!route.internal) statuses.set(503, 'ServiceUnavailable')
  if (effects.statuses.has(504)) statuses.set(504, 'GatewayTimeout')
  return statuses
}

/** The response component of each status a route may declare in `problems`. */
const declaredProblems: Readonly<Record<DocumentedProblemStatus, ProblemResponseName>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Gone',
  422: 'UnprocessableContent',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
}
