import type { Logger } from '../log/index.ts'
import type { HttpServer } from './http-server.ts'
import { internalServer } from './internal-server.ts'
import { httpMethods, type RequestContext } from './route.ts'
import { Router } from './router.ts'

/** Options of {@link createHttpsRedirectServer}. */
export interface HttpsRedirectOptions {
  /** The port HTTPS listens on; 443 is left out of the `Location`. */
  httpsPort: number
  /** Host for `Location` when the request's `Host` header is missing or malformed. */
  fallbackHost: string
  log: Logger
  keepAliveTimeoutMs: number
  requestTimeoutMs: number
}

/** A hostname or IP literal, as a `Host` header may carry it: nothing that could bend the URL. */
const hostname =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/

/**
 * A plain-HTTP server that answers every request with 308 Permanent Redirect to the same path on
 * HTTPS (308 keeps the method and body, unlike 301). The host comes from the request's `Host`
 * header, validated, with its port replaced by the HTTPS port. It drains and closes like the main
 * server.
 *
 * @example
 * ```ts
 * const redirect = createHttpsRedirectServer({ httpsPort: 8443, fallbackHost: 'localhost', log,
 *   keepAliveTimeoutMs: 5000, requestTimeoutMs: 30_000 })
 * await redirect.listen(8080, '0.0.0.0', 'server.redirectHttpPort')
 * ```
 */
export function createHttpsRedirectServer(options: HttpsRedirectOptions): HttpServer {
  const router = new Router()
  const port = options.httpsPort === 443 ? '' : `:${options.httpsPort}`
  const redirect = (ctx: RequestContext) => {
    const host = hostOf(ctx.headers.host) ?? options.fallbackHost
    const target = ctx.req.url?.startsWith('/') ? ctx.req.url : '/'
    ctx.status = 308
    ctx.header('location', `https://${host}${port}${target}`)
    return undefined
  }
  for (const method of httpMethods) {
    if (method === 'HEAD') continue
    router.add({ method, path: '/*', handler: redirect, internal: true })
  }
  return internalServer(router, options)
}

function hostOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]!
  return name !== '' && hostname.test(name) ? name : undefined
}
