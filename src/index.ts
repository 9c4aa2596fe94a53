/**
 * Keel: a framework for backend services that are production-ready from the first commit.
 * Each capability is also its own subpath export (`keel/config`, `keel/log`, …).
 */
export * from './app/index.ts'
export { ConfigError, defineConfigSection, loadConfig, Secret } from './config/index.ts'
export { isKeelError, KeelError, type KeelErrorCode } from './errors/index.ts'
export type { CheckResult, HealthCheck, HealthReport } from './health/index.ts'
export {
  type Guard,
  HttpError,
  isHttpError,
  type Principal,
  type ProblemDetails,
  type RequestContext,
  type RouteHandler,
  type Static,
  Type,
  type TypedContext,
} from './http/index.ts'
export { currentContext, type Logger } from './log/index.ts'
