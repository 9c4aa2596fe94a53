/**
 * `keel/http`: typed routes, guards, problem details and the server they run on.
 * `Type` is TypeBox's schema builder, re-exported so route schemas need no extra import.
 */
export { type Static, type TSchema, Type } from '@sinclair/typebox'
export type { AccessLogEntry, AccessLogOptions } from './access-log.ts'
export {
  type ApiKeyAuthOptions,
  type ApiKeyHashOptions,
  type ApiKeyLookup,
  type ApiKeyRecord,
  type AuthDecision,
  type AuthOutcome,
  type AuthorizeOptions,
  apiKeyAuth,
  authChannelName,
  authorize,
  type GeneratedApiKey,
  generateApiKey,
  hashApiKey,
  type JwksOptions,
  type JwtAlgorithm,
  type JwtAuthOptions,
  type JwtKeyOptions,
  jwtAuth,
  principalOf,
  requirePrincipal,
  requireRoles,
  requireScopes,
} from './auth/index.ts'
export { CidrList, type CidrListOptions, type CidrProblem, cidrProblems, isIp } from './cidr.ts'
export {
  type ClientIpResolver,
  clientIpFromConfig,
  trustedProxyClientIp,
  unmapIpv4,
} from './client-ip.ts'
export { registerFormats } from './formats.ts'
export { type Guard, GuardAttachments, type GuardHost, type Handler, type Next, withGuards } from './guard.ts'
export { type ContentCoding, negotiateEncoding } from './guards/accept-encoding.ts'
export { accessLog } from './guards/access-log.ts'
export { type BodyLimitOptions, bodyLimit } from './guards/body-limit.ts'
export { type CompressOptions, compress, isCompressibleType } from './guards/compress.ts'
export { type CorsOptions, type CorsOutcome, cors } from './guards/cors.ts'
export { type IpFilterOptions, type IpFilterOutcome, ipFilter } from './guards/ip-filter.ts'
export { type RateLimitKey, type RateLimitOptions, rateLimit } from './guards/rate-limit.ts'
export type { RateLimitOutcome, RateLimitStoreErrorOutcome } from './guards/rate-limit-metrics.ts'
export {
  MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type RateLimitHit,
  type RateLimitStore,
} from './guards/rate-limit-store.ts'
export {
  type RateLimitStoreOwner,
  RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  rateLimitStore,
  redisStore,
} from './guards/redis-rate-limit-store.ts'
export { type RequestIdOptions, requestId } from './guards/request-id.ts'
export {
  buildSecurityHeaders,
  type CspDirectiveValue,
  type ReferrerPolicyValue,
  type SecurityHeadersOptions,
  securityHeaders,
} from './guards/security-headers.ts'
export { type TimeoutOptions, timeout } from './guards/timeout.ts'
export { HttpError, isHttpError, unprocessable, type Violation, validationError } from './http-error.ts'
export { HttpServer, type HttpServerOptions } from './http-server.ts'
export { createHttpsRedirectServer, type HttpsRedirectOptions } from './https-redirect.ts'
export { type InjectOptions, type InjectResponse, injectRequest } from './inject.ts'
export { KeelResponse } from './keel-response.ts'
export {
  type OpenApiDocument,
  type OpenApiOptions,
  type OpenApiServing,
  type OpenApiSource,
  openApiDocument,
  openApiRoutes,
} from './openapi/index.ts'
export type { Principal } from './principal.ts'
export {
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problem,
  problemFromError,
  problemType,
  sendProblem,
} from './problem.ts'
export { isJsonContentType, readBodyText, readJsonBody } from './read-body.ts'
export type { HttpMethod, RequestContext, RouteDefinition, RouteHandler } from './route.ts'
export { type GroupOptions, RouteBuilder, RouteGroup, type RouteScope } from './route-builder.ts'
export type {
  DocumentedProblemStatus,
  ResponseBody,
  RouteInfo,
  RouteOptions,
  RouteSchema,
  TypedContext,
  TypedHandler,
} from './route-schema.ts'
export { Router } from './router.ts'
export { type SseEvents, type SseMessage, type SseOptions, SseStream, sse } from './sse.ts'
export {
  type CacheControlOption,
  type CacheRule,
  DEFAULT_CACHE_CONTROL,
  HASHED_FILE_NAME,
  IMMUTABLE_CACHE_CONTROL,
} from './static/cache-control.ts'
export { builtInMimeTypes } from './static/mime-types.ts'
export { type SpaFallbackOptions, type StaticOptions, serveStatic } from './static/serve-static.ts'
export { loadTlsFiles, type TlsFiles } from './tls.ts'
export { DEFAULT_BODY_LIMIT_BYTES } from './typed-route.ts'
export {
  type AnyTypedRoute,
  type DeclaredResponse,
  defineRoute,
  type RouteInput,
  type RouteResponse,
  requestRoute,
  type TypedRoute,
  type UndeclaredResponse,
} from './typed-route-ref.ts'
export {
  DEFAULT_WS_MAX_PAYLOAD_BYTES,
  WebSocketEndpoints,
  type WebSocketEndpointsOptions,
  type WebSocketHandler,
  type WebSocketRouteOptions,
} from './websocket.ts'
export { WebSocketConnection } from './websocket-connection.ts'
export { Rooms } from './websocket-rooms.ts'
