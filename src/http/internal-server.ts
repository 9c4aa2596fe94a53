import type { Logger } from '../log/index.ts'
import { disabledTracing } from '../telemetry/index.ts'
import { HttpServer } from './http-server.ts'
import type { Router } from './router.ts'

/** Timings and logger of an {@link internalServer}. */
export interface InternalServerOptions {
  log: Logger
  keepAliveTimeoutMs: number
  requestTimeoutMs: number
}

/**
 * A second, single-purpose server beside the app's own (the metrics port, the HTTP→HTTPS
 * redirect): its routes are not traced and write no access log.
 */
export function internalServer(router: Router, options: InternalServerOptions): HttpServer {
  return new HttpServer({
    router,
    log: options.log,
    handlerLog: options.log,
    tracing: () => disabledTracing,
    accessLog: false,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
  })
}
