import { AccessLog, type AccessLogOptions } from '../access-log.ts'
import type { Guard } from '../guard.ts'
import { serverSettingGuard } from '../server-settings.ts'
import { checkBoolean, checkOptionsObject, describe, invalidOption } from './guard-options.ts'

/**
 * Configures the server's access log, the one line per request the kernel writes when the
 * response is finished (so it sees the final status and duration, errors and timeouts included).
 * Rather than log a second line, this guard changes that one: skip paths, redact more query and
 * path values, turn it off (`enabled: false`), or replace it (`write`). It does not run per
 * request and works only app-wide.
 *
 * @example
 * ```ts
 * app.guard(accessLog({ skip: ['/favicon.ico'], redactQuery: ['email'], redactParams: ['token'] }))
 * app.guard(accessLog({ write: (entry) => audit.push(entry) }))  // replaces the kernel line
 * ```
 */
export function accessLog(options: AccessLogOptions = {}): Guard {
  checkOptionsObject('accessLog', options)
  checkBoolean('accessLog', 'enabled', options.enabled)
  const { skip, write } = options
  if (skip !== undefined && typeof skip !== 'function') checkPaths(skip)
  const redactQuery = names('redactQuery', options.redactQuery)
  const redactParams = names('redactParams', options.redactParams)
  if (write !== undefined && typeof write !== 'function')
    throw invalidOption(
      'accessLog',
      'write',
      `must be a function (entry, ctx) => void, got ${describe(write)}`,
    )
  return serverSettingGuard(
    'accessLog',
    {
      enabled: options.enabled ?? true,
      skip: typeof skip === 'function' ? '[function]' : (skip ?? []),
      redactQuery,
      redactParams,
      write: write ? '[function]' : 'kernel',
    },
    { accessLog: new AccessLog({ ...options, redactQuery, redactParams }) },
  )
}

function checkPaths(skip: unknown): void {
  if (!Array.isArray(skip))
    throw invalidOption('accessLog', 'skip', `must be a list of paths or a predicate, got ${describe(skip)}`)
  skip.forEach((path, i) => {
    if (typeof path !== 'string' || !path.startsWith('/'))
      throw invalidOption(
        'accessLog',
        `skip[${i}]`,
        `must be a path starting with "/", got ${describe(path)}`,
      )
  })
}

function names(option: string, list: unknown): string[] {
  if (list === undefined) return []
  if (!Array.isArray(list) || list.some((name) => typeof name !== 'string' || name.length === 0))
    throw invalidOption('accessLog', option, `must be a list of parameter names, got ${describe(list)}`)
  return [...list]
}
