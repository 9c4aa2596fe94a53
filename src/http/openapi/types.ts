import type { RouteInfo, RouteSchema } from '../route-schema.ts'

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) as it appears in the document. */
export type JsonSchema = { [keyword: string]: JsonValue } | boolean

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A guard as the app description lists it: its name and options (never secrets). */
export interface OpenApiGuard {
  name: string
  options?: Readonly<Record<string, unknown>>
}

/** A route as the app description lists it; what the document is built from. */
export interface OpenApiRoute {
  method: string
  /** A find-my-way template: `/users/:id`, `/files/*`. */
  path: string
  internal: boolean
  /** An internal route that runs inside the app-wide guards anyway (the docs routes). */
  appGuards?: boolean
  /** The route's own and its groups' guards. */
  guards: readonly OpenApiGuard[]
  schema?: RouteSchema & RouteInfo
}

/** What {@link openApiDocument} reads: the parts of `app.describe()` it needs. */
export interface OpenApiSource {
  service: { name: string; version: string }
  routes: readonly OpenApiRoute[]
  /** App-wide guards (they wrap every route that is not internal, and internal ones with `appGuards`). */
  guards: readonly OpenApiGuard[]
}

export interface OpenApiReference {
  $ref: string
}

export interface OpenApiParameter {
  name: string
  in: 'path' | 'query' | 'header'
  description?: string
  required: boolean
  deprecated?: boolean
  style?: 'simple' | 'form'
  explode?: boolean
  schema: JsonSchema
}

export interface OpenApiMediaType {
  schema: JsonSchema
}

export interface OpenApiHeader {
  description?: string
  schema: JsonSchema
}

export interface OpenApiResponse {
  description: string
  headers?: Record<string, OpenApiHeader>
  content?: Record<string, OpenApiMediaType>
}

export interface OpenApiRequestBody {
  description?: string
  required: boolean
  content: Record<string, OpenApiMediaType>
}

export interface OpenApiOperation {
  tags?: string[]
  summary?: string
  description?: string
  operationId: string
  parameters?: OpenApiParameter[]
  requestBody?: OpenApiRequestBody
  responses: Record<string, OpenApiResponse | OpenApiReference>
  deprecated?: boolean
  /** Alternatives; each maps scheme names to the scopes or roles it needs. */
  security?: Array<Record<string, string[]>>
}

export type OpenApiMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace'

export type OpenApiPathItem = Partial<Record<OpenApiMethod, OpenApiOperation>>

export type OpenApiSecurityScheme =
  | { type: 'http'; scheme: string; bearerFormat?: string; description?: string }
  | { type: 'apiKey'; in: 'header' | 'query' | 'cookie'; name: string; description?: string }

export interface OpenApiServer {
  url: string
  description?: string
}

/** An OpenAPI 3.1 document as {@link openApiDocument} builds it. */
export interface OpenApiDocument {
  openapi: '3.1.0'
  info: { title: string; version: string; description?: string }
  servers?: OpenApiServer[]
  tags?: Array<{ name: string }>
  paths: Record<string, OpenApiPathItem>
  components: {
    schemas: Record<string, JsonSchema>
    responses: Record<string, OpenApiResponse>
    securitySchemes?: Record<string, OpenApiSecurityScheme>
  }
}
