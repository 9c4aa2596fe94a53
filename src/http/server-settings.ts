import type { IncomingMessage } from 'node:http'
import { KeelError } from '../errors/index.ts'
import { AccessLog } from './access-log.ts'
import type { Guard } from './guard.ts'
import { requestIdFrom } from './request-id.ts'

/** How the server names each request: the header it reads and echoes, and the id it picks. */
export interface RequestIdPolicy {
  /** Lower-case header name, read from the request and set on the response. */
  readonly header: string
  idFor(req: IncomingMessage): string
}

/**
 * What the server does for every request outside the guard chain: it assigns the request id
 * before any guard runs (the log context and trace carry it) and writes the access log after the
 * response. The `requestId()` and `accessLog()` guards configure these instead of running per request.
 */
export interface ServerSettings {
  readonly requestId: RequestIdPolicy
  readonly accessLog: AccessLog
}

/** The kernel's behaviour without those guards: honour a safe `X-Request-Id` or mint a UUID; log every request. */
export const kernelSettings: ServerSettings = {
  requestId: { header: 'x-request-id', idFor: (req) => requestIdFrom(req.headers['x-request-id']) },
  accessLog: AccessLog.kernel,
}

// Symbol.for, so a guard made by another copy of Keel is still recognised.
const settingsKey = Symbol.for('keel.http.serverSettings')
type SettingGuard = Guard & { readonly [settingsKey]?: Partial<ServerSettings> }

/**
 * A guard that configures the server instead of running per request. The server takes it out of
 * the app-wide chain (so it costs nothing per request); on a group or route it cannot work, and
 * fails every request there with `KEEL_GUARD_PLACEMENT` naming the fix.
 */
export function serverSettingGuard(
  name: string,
  options: Readonly<Record<string, unknown>>,
  settings: Partial<ServerSettings>,
): Guard {
  const guard: SettingGuard = {
    name,
    options,
    [settingsKey]: settings,
    handle() {
      throw new KeelError(
        'KEEL_GUARD_PLACEMENT',
        `${name}() configures the server, so it works only as an app-wide guard: app.guard(${name}(…)), not in a group or route`,
      )
    },
  }
  return guard
}

/**
 * Splits app-wide guards into the per-request chain and the server settings the others give;
 * when two guards set the same thing, the later one wins.
 */
export function resolveServerSettings(guards: readonly Guard[]): {
  guards: readonly Guard[]
  settings: ServerSettings
} {
  let settings = kernelSettings
  const chain: Guard[] = []
  for (const guard of guards) {
    const own = (guard as SettingGuard)[settingsKey]
    if (own) settings = { ...settings, ...own }
    else chain.push(guard)
  }
  return { guards: chain.length === guards.length ? guards : chain, settings }
}
