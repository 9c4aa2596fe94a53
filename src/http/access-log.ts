import { type Logger, REDACTED, redactUrl } from '../log/index.ts'
import type { Exchange } from './exchange.ts'
import type { RequestContext } from './route.ts'

/** One access-log entry, as the kernel line carries it and as a custom `write` receives it. */
export interface AccessLogEntry {
  method: string
  /** The request target with secrets redacted (see {@link AccessLogOptions}). */
  url: string
  /** The route template that matched, if any. */
  route: string | undefined
  status: number
  durationMs: number
  requestId: string
}

/** How the server writes its one access-log line per request; see the `accessLog()` guard. */
export interface AccessLogOptions {
  /** `false` turns the line off. Default true. */
  enabled?: boolean
  /** Paths (exact, without query) or a predicate for requests not to log, e.g. `['/favicon.ico']`. */
  skip?: readonly string[] | ((path: string) => boolean)
  /** Query parameters whose values are redacted, besides the secret-looking ones (`token`, `password`, …). */
  redactQuery?: readonly string[]
  /** Route parameters whose values are redacted in the logged path (`/reset/:token` → `/reset/[REDACTED]`). */
  redactParams?: readonly string[]
  /** Replaces the kernel line: called once per request with the entry and the request. */
  write?: (entry: AccessLogEntry, ctx: RequestContext) => void
}

/**
 * The server's access log: one line per finished request at `info` (probes and scrapes at
 * `debug`), with the URL's secrets redacted. Everything is resolved at construction; per request
 * it costs what the kernel line always cost, plus a set lookup per configured redaction.
 */
export class AccessLog {
  /** The kernel default: every request, secret-looking query values redacted. */
  static readonly kernel = new AccessLog({})
  readonly #isEnabled: boolean
  readonly #skip: ((path: string) => boolean) | undefined
  readonly #queryNames: ReadonlySet<string> | undefined
  readonly #paramNames: readonly string[] | undefined
  readonly #write: AccessLogOptions['write']

  constructor(options: AccessLogOptions) {
    this.#isEnabled = options.enabled ?? true
    const { skip } = options
    if (typeof skip === 'function') this.#skip = skip
    else if (skip && skip.length > 0) {
      const paths = new Set(skip)
      this.#skip = (path) => paths.has(path)
    }
    if (options.redactQuery?.length)
      this.#queryNames = new Set(options.redactQuery.map((n) => n.toLowerCase()))
    if (options.redactParams?.length) this.#paramNames = [...options.redactParams]
    this.#write = options.write
  }

  /** Writes the line for a finished request (or nothing, when disabled or skipped). */
  write(exchange: Exchange, log: Logger, status: number, seconds: number): void {
    if (!this.#isEnabled || this.#skip?.(exchange.path)) return
    const { method, definition } = exchange
    const durationMs = Math.round(seconds * 100_000) / 100
    if (this.#write) {
      const entry = {
        method,
        url: this.url(exchange),
        route: definition?.path,
        status,
        durationMs,
        requestId: exchange.requestId,
      }
      try {
        this.#write(entry, exchange)
      } catch (error) {
        log.error({ err: error }, 'access log writer failed')
      }
      return
    }
    const level = definition?.internal ? 'debug' : 'info'
    if (!log.isLevelEnabled(level)) return
    const fields = {
      method,
      url: this.url(exchange),
      route: definition?.path,
      status,
      durationMs,
      headers: log.isLevelEnabled('debug') ? exchange.req.headers : undefined,
    }
    log[level](fields, 'request completed')
  }

  /** The request target as logged: secret-looking and configured query values and route parameters redacted. */
  url(exchange: Exchange): string {
    let url = redactUrl(exchange.url)
    if (this.#queryNames && url.includes('?')) url = redactQueryNames(url, this.#queryNames)
    if (this.#paramNames && exchange.definition)
      url = redactPathValues(url, exchange.params, this.#paramNames)
    return url
  }
}

function redactQueryNames(url: string, names: ReadonlySet<string>): string {
  const q = url.indexOf('?')
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      if (eq === -1) return pair
      const key = pair.slice(0, eq)
      return names.has(safeDecode(key).toLowerCase()) ? `${key}=${REDACTED}` : pair
    })
  return `${url.slice(0, q)}?${pairs.join('&')}`
}

function redactPathValues(
  url: string,
  params: Readonly<Record<string, string | undefined>>,
  names: readonly string[],
): string {
  const values = new Set<string>()
  for (const name of names) {
    const value = params[name]
    if (value) values.add(value)
  }
  if (values.size === 0) return url
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const redacted = path
    .split('/')
    .map((segment) => (values.has(segment) || values.has(safeDecode(segment)) ? REDACTED : segment))
    .join('/')
  return q === -1 ? redacted : redacted + url.slice(q)
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
