import type { Registry } from 'prom-client'
import { boundCounter, OutcomeCounters, perRegistry } from '../../telemetry/index.ts'
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
  /** Names the filter in `keel_ip_filter_requests_total{filter}`. Default `default`; name filters that must count apart. */
  name?: string
}

/** What an IP filter decided: `keel_ip_filter_requests_total{outcome}`. */
export type IpFilterOutcome = 'allowed' | 'denied' | 'unparsable'

const ipFilterOutcomes: readonly IpFilterOutcome[] = ['allowed', 'denied', 'unparsable']

const ipFilterMetric = perRegistry((registry: Registry) =>
  boundCounter(registry, {
    name: 'keel_ip_filter_requests_total',
    help: 'Requests an IP filter decided, by filter and outcome (allowed, denied, unparsable: no usable client address)',
    labelNames: ['filter', 'outcome'],
  }),
)

const address = new Int32Array(4)

/**
 * Lets requests through by client address (`ctx.ip`, which honours `http.trustProxy`). A refused
 * request gets a 403 problem `KEEL_IP_DENIED` that names neither the address nor the lists.
 * An address that cannot be parsed is refused. Ranges are checked as given at construction, where
 * an invalid entry throws `KEEL_GUARD_OPTIONS` naming it.
 *
 * An IPv4 range also matches the IPv4-mapped IPv6 form (`::ffff:10.0.0.1`), so dual-stack
 * sockets need no second entry. Each check parses the address once and allocates nothing.
 * Decisions are counted in `keel_ip_filter_requests_total{filter,outcome}` of the app the
 * guard is registered on.
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
  const name = options.name ?? 'default'
  if (typeof name !== 'string' || name.length === 0)
    throw invalidOption('ipFilter', 'name', `must be a non-empty string, got ${describe(name)}`)
  const outcomes = new OutcomeCounters(ipFilterOutcomes)
  const refuse = (outcome: IpFilterOutcome) => {
    outcomes.count(outcome)
    return new HttpError(403, 'KEEL_IP_DENIED', 'requests from this address are not allowed')
  }
  return {
    name: 'ipFilter',
    options: { name, ...(allow ? { allow: allow.entries } : {}), deny: deny.entries },
    attach(host) {
      outcomes.bind(ipFilterMetric(host.registry), [name])
    },
    handle(ctx, next) {
      if (parseIpInto(ctx.ip, address) === 0) throw refuse('unparsable')
      if (deny.hasAddress(address) || (allow !== undefined && !allow.hasAddress(address)))
        throw refuse('denied')
      outcomes.count('allowed')
      return next()
    },
  }
}

function cidrList(option: string, entries: unknown): CidrList {
  if (!Array.isArray(entries))
    throw invalidOption('ipFilter', option, `must be a list of CIDRs, got ${describe(entries)}`)
  return new CidrList(entries, { what: `ipFilter: options.${option}` })
}
