/**
 * `keel/http`: typed routes, guards, problem details and the server they run on.
 * `Type` is TypeBox's schema builder, re-exported so route schemas need no extra import.
 */
export { type Static, type TSchema, Type } from '@sinclair/typebox'
export { registerFormats } from './formats.ts'
export { type Guard, type Handler, withGuards } from './guard.ts'
export { HttpError, isHttpError, type Violation, validationError } from './http-error.ts'
export { HttpServer, type HttpServerOptions } from './http-server.ts'
export { type InjectOptions, type InjectResponse, injectRequest } from './inject.ts'
export type { Principal } from './principal.ts'
export {
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problem,
  problemFromError,
  problemType,
  sendProblem,
} from './problem.ts'
export { isJsonContentType, readJsonBody } from './read-body.ts'
export type { HttpMethod, RequestContext, RouteDefinition, RouteHandler } from './route.ts'
export { type GroupOptions, RouteBuilder, RouteGroup, type RouteScope } from './route-builder.ts'
export type {
  ResponseBody,
  RouteInfo,
  RouteOptions,
  RouteSchema,
  TypedContext,
  TypedHandler,
} from './route-schema.ts'
export { Router } from './router.ts'
export { DEFAULT_BODY_LIMIT_BYTES } from './typed-route.ts'
