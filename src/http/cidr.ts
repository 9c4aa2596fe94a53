import { KeelError, type KeelErrorCode } from '../errors/index.ts'

/*
 * IP addresses and CIDR ranges, written here rather than taken from a package, because:
 * - the well-kept libraries (ipaddr.js, the parser under express's proxy-addr) are not among
 *   Keel's dependencies, and this is about 150 lines we can test exhaustively;
 * - Node's own `net.BlockList` matches the same way (it is the oracle in the tests) but re-parses
 *   the address text on every call and crosses into C++: about 10x slower per check
 *   (`node --conditions=source --import tsx bench/cidr-match.ts`). An IP filter and a
 *   trusted-proxy walk run on every request; this parser allocates nothing per check.
 *
 * Every address is held as 128 bits (four 32-bit words); an IPv4 address is held as its
 * IPv4-mapped IPv6 form `::ffff:a.b.c.d`, and an IPv4 range `a.b.c.d/n` as `::ffff:a.b.c.d/(96+n)`.
 * So `10.0.0.0/8` matches both `10.1.2.3` and `::ffff:10.1.2.3` (what Node reports for an IPv4
 * client on a dual-stack socket), and `::/0` matches everything.
 */

/** Four 32-bit words, most significant first. */
type Words = Int32Array

const hexValue = (code: number): number => {
  if (code >= 48 && code <= 57) return code - 48 // 0-9
  if (code >= 97 && code <= 102) return code - 87 // a-f
  if (code >= 65 && code <= 70) return code - 55 // A-F
  return -1
}

/** Dotted-quad IPv4 in `text[start, end)` as an unsigned 32-bit number, or -1. Leading zeros are refused (octal ambiguity). */
function parseIpv4(text: string, start: number, end: number): number {
  let value = 0
  let octets = 0
  let i = start
  while (octets < 4) {
    const first = i
    let octet = 0
    while (i < end) {
      const code = text.charCodeAt(i)
      if (code < 48 || code > 57) break
      octet = octet * 10 + code - 48
      i++
    }
    const digits = i - first
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return -1
    value = value * 256 + octet
    octets++
    if (octets < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return -1 // '.'
      i++
    }
  }
  return i === end ? value : -1
}

const groups = new Uint16Array(8)

/** IPv6 in `text[start, end)` (compressed forms and a trailing dotted IPv4 allowed) into `out`; false if malformed. */
function parseIpv6(text: string, start: number, end: number, out: Words): boolean {
  let count = 0
  let gap = -1 // index in `groups` where `::` stands
  let i = start
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false // a lone leading ':'
    gap = 0
    i += 2
  }
  while (i < end) {
    let value = 0
    let j = i
    while (j < end && j - i < 5) {
      const digit = hexValue(text.charCodeAt(j))
      if (digit < 0) break
      value = value * 16 + digit
      j++
    }
    if (j < end && text.charCodeAt(j) === 46) {
      // A dotted IPv4 tail fills the last two groups.
      if (count > 6) return false
      const v4 = parseIpv4(text, i, end)
      if (v4 < 0) return false
      groups[count++] = v4 >>> 16
      groups[count++] = v4 & 0xffff
      break
    }
    if (j === i || j - i > 4 || count === 8) return false
    groups[count++] = value
    if (j === end) break
    if (text.charCodeAt(j) !== 58) return false
    j++
    if (text.charCodeAt(j) === 58) {
      if (gap >= 0) return false // a second '::'
      gap = count
      j++
    } else if (j === end) {
      return false // a trailing single ':'
    }
    i = j
  }
  if (gap < 0 ? count !== 8 : count > 7) return false
  const zeros = 8 - count
  for (let w = 0; w < 4; w++) {
    const hi = groupAt(2 * w, gap, zeros)
    const lo = groupAt(2 * w + 1, gap, zeros)
    out[w] = (hi << 16) | lo
  }
  return true
}

/** The value of group `index` of the expanded address, given where `::` inserted `zeros` zero groups. */
function groupAt(index: number, gap: number, zeros: number): number {
  if (gap < 0 || index < gap) return groups[index]!
  if (index < gap + zeros) return 0
  return groups[index - zeros]!
}

/**
 * Parses an IP address (v4, or v6 with an optional `%zone`, which is ignored) into `out`.
 * Returns 4 or 6, or 0 when `text` is not an address. Allocation-free: the hot path of
 * the IP filter and the trusted-proxy walk.
 */
export function parseIpInto(text: string, out: Words): 0 | 4 | 6 {
  let end = text.length
  if (end === 0 || end > 64) return 0
  if (text.indexOf(':') === -1) {
    const v4 = parseIpv4(text, 0, end)
    if (v4 < 0) return 0
    out[0] = 0
    out[1] = 0
    out[2] = 0xffff
    out[3] = v4 | 0
    return 4
  }
  const zone = text.indexOf('%')
  if (zone !== -1) {
    if (zone === end - 1) return 0
    end = zone
  }
  return parseIpv6(text, 0, end, out) ? 6 : 0
}

/** True if `text` is an IPv4 or IPv6 address (IPv6 may carry a `%zone`). */
export const isIp = (text: string): boolean => parseIpInto(text, new Int32Array(4)) !== 0

/** Parses a range into `base` and returns its prefix counted in 128 bits, or why it is not a range. */
function parseCidrInto(text: string, base: Words): number | string {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  if (address.includes('%')) return 'a range cannot carry a %zone'
  const family = parseIpInto(address, base)
  if (family === 0) return 'not an IPv4 or IPv6 address'
  if (slash === -1) return 128
  const bits = family === 4 ? 32 : 128
  const digits = text.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(digits)) return `prefix "${digits}" is not a number of bits`
  const prefix = Number(digits)
  if (prefix > bits) return `prefix /${prefix} is longer than the ${bits} bits of an IPv${family} address`
  return family === 4 ? 96 + prefix : prefix
}

/** An entry of a CIDR list that is not an address or range, and why. */
export interface CidrProblem {
  index: number
  entry: unknown
  reason: string
}

/** Every entry of `entries` that is not an IP address or CIDR range; empty when all are. */
export function cidrProblems(entries: readonly unknown[]): CidrProblem[] {
  const base = new Int32Array(4)
  const problems: CidrProblem[] = []
  entries.forEach((entry, index) => {
    const parsed = typeof entry === 'string' ? parseCidrInto(entry.trim(), base) : 'not a string'
    if (typeof parsed === 'string') problems.push({ index, entry, reason: parsed })
  })
  return problems
}

/** `[2] "10.0.0.0/33" is not an IP address or CIDR range: prefix /33 is longer than …` */
export const describeCidrProblem = (problem: CidrProblem): string =>
  `[${problem.index}] ${JSON.stringify(problem.entry)} is not an IP address or CIDR range: ${problem.reason}`

/** Options of {@link CidrList}. */
export interface CidrListOptions {
  /** Names the list in error messages: `ipFilter: options.allow` → `ipFilter: options.allow[2] "…" is not …`. */
  what?: string
  /** The code of the error an invalid entry raises. Default `KEEL_GUARD_OPTIONS`. */
  code?: KeelErrorCode
}

/**
 * A list of IP addresses and CIDR ranges, IPv4 and IPv6, that answers "is this address in
 * the list?". Bare addresses are /32 or /128; host bits after the prefix are ignored
 * (`10.1.2.3/8` is `10.0.0.0/8`). An IPv4 range also matches IPv4-mapped IPv6 addresses.
 * An invalid entry throws at construction, naming its index and text.
 *
 * @example
 * ```ts
 * const internal = new CidrList(['10.0.0.0/8', 'fd00::/8', '127.0.0.1'])
 * internal.has('10.20.30.40') // true
 * internal.has('::ffff:10.0.0.1') // true
 * internal.has('203.0.113.9') // false
 * ```
 */
export class CidrList {
  /** The entries as given. */
  readonly entries: readonly string[]
  /** Per range: the masked base address (4 words) then the mask (4 words). */
  readonly #ranges: Int32Array
  readonly #scratch = new Int32Array(4)

  constructor(entries: readonly string[], options: CidrListOptions = {}) {
    this.entries = [...entries]
    this.#ranges = new Int32Array(entries.length * 8)
    const problem = cidrProblems(entries)[0]
    if (problem) {
      throw new KeelError(
        options.code ?? 'KEEL_GUARD_OPTIONS',
        `${options.what ?? 'cidr'}${describeCidrProblem(problem)}`,
      )
    }
    const base = new Int32Array(4)
    entries.forEach((entry, index) => {
      const prefix = parseCidrInto(entry.trim(), base) as number
      for (let w = 0; w < 4; w++) {
        const bits = Math.min(32, Math.max(0, prefix - 32 * w))
        const mask = bits === 0 ? 0 : -1 << (32 - bits)
        this.#ranges[index * 8 + w] = base[w]! & mask
        this.#ranges[index * 8 + 4 + w] = mask
      }
    })
  }

  get size(): number {
    return this.entries.length
  }

  /** True if `ip` is an address inside one of the ranges; false for anything that is not an address. */
  has(ip: string): boolean {
    return parseIpInto(ip, this.#scratch) !== 0 && this.hasAddress(this.#scratch)
  }

  /** Like {@link has}, for an address already parsed with {@link parseIpInto}. */
  hasAddress(words: Int32Array): boolean {
    const ranges = this.#ranges
    const w0 = words[0]!
    const w1 = words[1]!
    const w2 = words[2]!
    const w3 = words[3]!
    for (let r = 0; r < ranges.length; r += 8) {
      if (
        (w3 & ranges[r + 7]!) === ranges[r + 3] &&
        (w2 & ranges[r + 6]!) === ranges[r + 2] &&
        (w1 & ranges[r + 5]!) === ranges[r + 1] &&
        (w0 & ranges[r + 4]!) === ranges[r]
      ) {
        return true
      }
    }
    return false
  }
}
