import type { IncomingMessage } from 'node:http'
import { ConfigError, type KernelConfig, type LoadedConfig } from '../config/index.ts'
import { CidrList, cidrProblems, describeCidrProblem, parseIpInto } from './cidr.ts'

/** Finds a request's client address; the server calls it lazily, the first time `ctx.ip` is read. */
export type ClientIpResolver = (req: IncomingMessage) => string

/**
 * `::ffff:1.2.3.4` → `1.2.3.4`: Node reports IPv4 clients of a dual-stack socket in the mapped
 * form; the dotted form is what logs, limits and filters should see.
 */
export function unmapIpv4(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 && address.includes('.', 7)) {
    const head = address.slice(0, 7).toLowerCase()
    if (head === '::ffff:') return address.slice(7)
  }
  return address
}

const scratch = new Int32Array(4)

/**
 * One X-Forwarded-For entry as an address: trimmed, `[v6]:port` and `v4:port` reduced to the
 * address, IPv6 lowercased. Undefined for anything that is not an address (`unknown`, an
 * obfuscated RFC 7239 identifier, garbage).
 */
function forwardedAddress(entry: string): string | undefined {
  let address = entry.trim()
  if (address.charCodeAt(0) === 91) {
    // '[2001:db8::1]' or '[2001:db8::1]:8080'
    const close = address.indexOf(']')
    if (close === -1 || !isPortSuffix(address, close + 1)) return undefined
    address = address.slice(1, close)
  } else {
    const colon = address.indexOf(':')
    if (colon !== -1 && address.indexOf(':', colon + 1) === -1) {
      // Exactly one ':' can only be 'v4:port' (some proxies append the client's port).
      if (!isPortSuffix(address, colon)) return undefined
      address = address.slice(0, colon)
    }
  }
  const family = parseIpInto(address, scratch)
  if (family === 0) return undefined
  return family === 6 ? address.toLowerCase() : address
}

/** True if `text` from `at` is empty or `:` followed by 1-5 digits. */
function isPortSuffix(text: string, at: number): boolean {
  if (at === text.length) return true
  if (text.charCodeAt(at) !== 58) return false
  const port = text.slice(at + 1)
  return port.length > 0 && port.length <= 5 && /^[0-9]+$/.test(port)
}

/**
 * The standard trusted-proxy algorithm. The client is the socket's peer, unless that peer is a
 * trusted proxy: then X-Forwarded-For is read from the right (each proxy appends the address it
 * saw), trusted hops are skipped, and the first untrusted address is the client. Entries left of
 * it were written by the client and are never believed.
 *
 * A malformed entry ends the walk: the client is then the nearest address that was verified
 * (the trusted proxy that wrote the entry), never anything further left, which the client could
 * have forged. IPv4-mapped IPv6 addresses are reported in their dotted IPv4 form.
 *
 * With no trusted proxies the result is the socket's peer and X-Forwarded-For is ignored.
 *
 * @example
 * ```ts
 * const clientIp = trustedProxyClientIp(new CidrList(['10.0.0.0/8']))
 * // peer 10.0.0.2, X-Forwarded-For: "6.6.6.6, 203.0.113.7, 10.0.0.9"
 * clientIp(req) // '203.0.113.7' ('6.6.6.6' was written by the client itself)
 * ```
 */
export function trustedProxyClientIp(trusted: CidrList): ClientIpResolver {
  if (trusted.size === 0) return (req) => unmapIpv4(req.socket.remoteAddress ?? '')
  return (req) => {
    const peer = req.socket.remoteAddress ?? ''
    if (!trusted.has(peer)) return unmapIpv4(peer)
    const header = req.headers['x-forwarded-for']
    // Node joins repeated X-Forwarded-For lines with ', ', in order.
    const forwarded = Array.isArray(header) ? header.join(',') : header
    if (!forwarded) return unmapIpv4(peer)
    let client = peer
    let end = forwarded.length
    while (end > 0) {
      const comma = forwarded.lastIndexOf(',', end - 1)
      const address = forwardedAddress(forwarded.slice(comma + 1, end))
      if (address === undefined) break
      client = address
      if (comma === -1 || !trusted.hasAddress(scratch)) break
      end = comma
    }
    return unmapIpv4(client)
  }
}

/**
 * The client-IP resolver for an app's `http.trustProxy`. Invalid entries are one
 * `KEEL_CONFIG_INVALID` {@link ConfigError} naming each entry and where the list was set.
 */
export function clientIpFromConfig(config: LoadedConfig<KernelConfig>): ClientIpResolver {
  const key = 'http.trustProxy'
  const entries = config.values.http.trustProxy
  const problems = cidrProblems(entries)
  if (problems.length > 0) {
    const source = config.sourceOf(key)
    throw new ConfigError(
      problems.map((problem) => ({
        code: 'KEEL_CONFIG_INVALID' as const,
        key,
        message: describeCidrProblem(problem),
        source,
      })),
    )
  }
  return trustedProxyClientIp(new CidrList(entries))
}
