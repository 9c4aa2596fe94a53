/** The precompressed codings Keel looks for, in order of preference, with their file suffix. */
export const precompressedCodings = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
] as const

export type PrecompressedCoding = (typeof precompressedCodings)[number]

/**
 * The codings of {@link precompressedCodings} the client accepts (q > 0), best first: Brotli
 * before gzip at equal weight. `*` accepts any coding not named; `q=0` refuses one.
 *
 * @example
 * ```ts
 * acceptedCodings('gzip, deflate, br') // [br, gzip]
 * acceptedCodings('br;q=0, *') // [gzip]
 * ```
 */
export function acceptedCodings(header: string | string[] | undefined): PrecompressedCoding[] {
  if (typeof header !== 'string' || header === '') return []
  const weights = new Map<string, number>()
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';')
    let q = 1
    for (const param of params) {
      const [key, value] = param.trim().split('=')
      if (key === 'q') q = Number(value)
    }
    if (name !== '' && !Number.isNaN(q)) weights.set(name.trim(), q)
  }
  const star = weights.get('*')
  return precompressedCodings
    .map((entry, order) => ({ entry, order, q: weights.get(entry.coding) ?? star ?? 0 }))
    .filter((candidate) => candidate.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order)
    .map((candidate) => candidate.entry)
}
