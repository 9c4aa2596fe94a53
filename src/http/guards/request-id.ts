import type { Guard } from '../guard.ts'
import { isAcceptableRequestId, mintRequestId } from '../request-id.ts'
import { serverSettingGuard } from '../server-settings.ts'
import {
  checkBoolean,
  checkHeaderName,
  checkOptionsObject,
  describe,
  invalidOption,
} from './guard-options.ts'

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** The header read from the request and set on the response. Default `X-Request-Id`. */
  header?: string
  /** Makes a new id. Default: a UUID (version 8: random per process, then a counter). */
  generate?: () => string
  /**
   * Whether a caller's id is kept (when it is 1-128 letters, digits, `.`, `_`, `:` or `-`).
   * Default true; set false at an edge facing untrusted clients, so every id is yours.
   */
  trustIncoming?: boolean
}

/**
 * Configures how the server names requests. The server assigns the id before any guard runs
 * (log lines, the trace and problem details all carry it), so this guard does not run per request:
 * the server reads it at the first request and uses its header, generator and trust setting
 * instead of the kernel default (honour a safe `X-Request-Id`, else a UUID). It works only
 * app-wide. An id from `generate` that is not a safe token is replaced by a UUID, so a bad
 * generator cannot break responses or inject into logs.
 *
 * @example
 * ```ts
 * app.guard(requestId({ header: 'X-Correlation-Id', trustIncoming: false, generate: () => ulid() }))
 * ```
 */
export function requestId(options: RequestIdOptions = {}): Guard {
  checkOptionsObject('requestId', options)
  const header = options.header ?? 'x-request-id'
  checkHeaderName('requestId', 'header', header)
  checkBoolean('requestId', 'trustIncoming', options.trustIncoming)
  if (options.generate !== undefined && typeof options.generate !== 'function')
    throw invalidOption(
      'requestId',
      'generate',
      `must be a function returning an id, got ${describe(options.generate)}`,
    )
  const name = header.toLowerCase()
  const trustIncoming = options.trustIncoming ?? true
  const custom = options.generate
  const generate = custom
    ? () => {
        const id = custom()
        return isAcceptableRequestId(id) ? id : mintRequestId()
      }
    : mintRequestId
  return serverSettingGuard(
    'requestId',
    { header: name, trustIncoming, generate: custom ? '[function]' : 'uuid' },
    {
      requestId: {
        header: name,
        idFor: trustIncoming
          ? (req) => {
              const incoming = req.headers[name]
              return isAcceptableRequestId(incoming) ? incoming : generate()
            }
          : () => generate(),
      },
    },
  )
}
