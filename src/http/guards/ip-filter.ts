import { CidrList, parseIpInto } from '../cidr.ts'
import type { Guard } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import { checkOptionsObject, describe, invalidOption } from './guard-options.ts'

/** Options of {@link ipFilter}. */
export interface IpFilterOptions {
  /**
   * Only these addresses and CIDR ranges (IPv4 and IPv6) may pass. Absent: every address not
   * denied. An empty list lets no one through.
   */
  allow?: readonly string[]
  /** These addresses and ranges are refused, even when `allow` covers them: deny wins. */
  deny?: readonly string[]
}

const address = new Int32Array(4)

/**
 * Lets requests through by client address (`ctx.ip`, which honours `http.trustProxy`). A refused
 * request gets a 403 problem `KEEL_IP_DENIED` that names neither the address nor the lists.
 * An address that cannot be parsed is refused. Ranges are checked as given at construction, where
 * an invalid entry throws `KEEL_GUARD_OPTIONS` naming it.
 *
 * An IPv4 range also matches the IPv4-mapped IPv6 form (`::ffff:10.0.0.1`), so dual-stack
 * sockets need no second entry. Each check parses the address once and allocates nothing.
 *
 * @example
 * ```ts
 * app.guard(ipFilter({ deny: ['203.0.113.0/24'] }))
 * app.group('/admin', { guards: [ipFilter({ allow: ['10.0.0.0/8', 'fd00::/8'] })] }, (admin) => {
 *   admin.get('/stats', () => ({ ok: true }))
 * })
 * ```
 */
export function ipFilter(options: IpFilterOptions): Guard {
  checkOptionsObject('ipFilter', options)
  const allow = options.allow === undefined ? undefined : cidrList('allow', options.allow)
  const deny = cidrList('deny', options.deny ?? [])
  if (allow === undefined && deny.size === 0)
    throw invalidOption(
      'ipFilter',
      'allow',
      'or options.deny must be given: a filter with neither does nothing',
    )
  return {
    name: 'ipFilter',
    options: { ...(allow ? { allow: allow.entries } : {}), deny: deny.entries },
    handle(ctx, next) {
      if (
        parseIpInto(ctx.ip, address) === 0 ||
        deny.hasAddress(address) ||
        (allow !== undefined && !allow.hasAddress(address))
      ) {
        throw new HttpError(403, 'KEEL_IP_DENIED', 'requests from this address are not allowed')
      }
      return next()
    },
  }
}

function cidrList(option: string, entries: unknown): CidrList {
  if (!Array.isArray(entries))
    throw invalidOption('ipFilter', option, `must be a list of CIDRs, got ${describe(entries)}`)
  return new CidrList(entries, { what: `ipFilter: options.${option}` })
}
