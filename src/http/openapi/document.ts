import { canonicalJson, compareText } from './canonical-json.ts'
import { type GuardEffects, nameSchemes, securityRequirements } from './guard-effects.ts'
import { type OperationEntry, operationEntries } from './operation-entries.ts'
import { operationResponses } from './operation-responses.ts'
import { operationParameters } from './parameters.ts'
import { problemResponses, problemSchemas } from './problem-responses.ts'
import { SchemaComponents } from './schema-components.ts'
import type {
  OpenApiDocument,
  OpenApiOperation,
  OpenApiPathItem,
  OpenApiResponse,
  OpenApiSecurityScheme,
  OpenApiServer,
  OpenApiSource,
} from './types.ts'

/** Options of {@link openApiDocument}. */
export interface OpenApiOptions {
  /** `info.title`. Default: the service name. */
  title?: string
  /** `info.version`. Default: the service version. */
  version?: string
  /** `info.description` (CommonMark). */
  description?: string
  /** Where the API is served. Default: none, which means the host serving the document. */
  servers?: readonly OpenApiServer[]
  /** Include internal routes (probes, metrics, the document itself). Default: false. */
  includeInternal?: boolean
}

/**
 * Builds the OpenAPI 3.1 document of an app from its description: one operation per route
 * (internal ones left out), parameters, request body and responses from the route schemas,
 * Keel's problem-details error responses where they apply, and security schemes from auth
 * guards. Deterministic: the same app gives byte-identical JSON, whatever order its routes were
 * added in (paths sorted, methods in OpenAPI order, components by name, no timestamps).
 *
 * @example
 * ```ts
 * const app = createApp()
 * app.get('/users/:id', { params: Type.Object({ id: Type.Integer() }), response: { 200: User } }, getUser)
 * const doc = openApiDocument(app.describe())
 * doc.paths['/users/{id}'].get.operationId // 'getUsersById'
 * ```
 */
export function openApiDocument(source: OpenApiSource, options: OpenApiOptions = {}): OpenApiDocument {
  const components = new SchemaComponents(problemSchemas)
  const entries = operationEntries(source, options.includeInternal === true)
  const schemeNames = nameSchemes(entries.flatMap((e) => e.effects.schemes))
  const paths: Record<string, OpenApiPathItem> = {}
  const tags = new Set<string>()
  for (const entry of entries) {
    const operation = buildOperation(entry, components, schemeNames)
    for (const tag of operation.tags ?? []) tags.add(tag)
    paths[entry.path] ??= {}
    paths[entry.path]![entry.method] = operation
  }
  const securitySchemes = schemesByName(entries, schemeNames)
  const { servers, description } = options
  return {
    openapi: '3.1.0',
    info: {
      title: options.title || source.service.name,
      version: options.version || source.service.version,
      ...(description ? { description } : {}),
    },
    ...(servers?.length
      ? {
          servers: servers.map((s) => ({
            url: s.url,
            ...(s.description ? { description: s.description } : {}),
          })),
        }
      : {}),
    ...(tags.size > 0 ? { tags: [...tags].sort(compareText).map((name) => ({ name })) } : {}),
    paths,
    components: {
      schemas: structuredClone(components.schemas()),
      responses: structuredClone(problemResponses) as Record<string, OpenApiResponse>,
      ...(securitySchemes ? { securitySchemes } : {}),
    },
  }
}

function buildOperation(
  entry: OperationEntry,
  components: SchemaComponents,
  schemeNames: Map<string, string>,
): OpenApiOperation {
  const { route, effects } = entry
  const schema = route.schema
  const where = `${route.method} ${route.path}`
  const parameters = operationParameters(
    {
      pathParams: entry.pathParams,
      params: schema?.params,
      query: schema?.query,
      headers: schema?.headers,
      where,
    },
    components,
  )
  const body = schema?.body
    ? components.convert(schema.body, `${where} body`, { closed: !schema.allowUnknown?.body })
    : undefined
  const tags = [...new Set(schema?.tags ?? [])]
  return {
    ...(tags.length > 0 ? { tags } : {}),
    ...(schema?.summary ? { summary: schema.summary } : {}),
    ...(schema?.description ? { description: schema.description } : {}),
    operationId: entry.operationId,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body !== undefined
      ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } }
      : {}),
    responses: operationResponses(entry, components, where),
    ...(schema?.deprecated ? { deprecated: true } : {}),
    ...security(effects, schemeNames),
  }
}

function security(
  effects: GuardEffects,
  schemeNames: Map<string, string>,
): { security?: Array<Record<string, string[]>> } {
  const requirements = securityRequirements(effects, (scheme) => schemeNames.get(canonicalJson(scheme))!)
  return requirements.length > 0 ? { security: requirements } : {}
}

function schemesByName(
  entries: readonly OperationEntry[],
  schemeNames: Map<string, string>,
): Record<string, OpenApiSecurityScheme> | undefined {
  if (schemeNames.size === 0) return undefined
  const byName = new Map<string, OpenApiSecurityScheme>()
  for (const { scheme } of entries.flatMap((e) => e.effects.schemes))
    byName.set(schemeNames.get(canonicalJson(scheme))!, scheme)
  const out: Record<string, OpenApiSecurityScheme> = {}
  for (const name of [...byName.keys()].sort(compareText)) out[name] = { ...byName.get(name)! }
  return out
}
