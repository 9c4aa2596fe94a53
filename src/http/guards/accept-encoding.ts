/** A content coding `compress()` can produce. */
export type ContentCoding = 'br' | 'gzip'

/**
 * Picks the coding to answer with from an `Accept-Encoding` header: among `offered` (the
 * server's preference order), the one the client rates highest (`q`, default 1; `*` covers
 * codings not named; `q=0` refuses). Ties go to the server's order. No header, or nothing
 * acceptable, gives `undefined` (send the body as it is).
 *
 * @example
 * ```ts
 * negotiateEncoding('gzip;q=1, br;q=0.5', ['br', 'gzip']) // 'gzip'
 * ```
 */
export function negotiateEncoding(
  header: string | undefined,
  offered: readonly ContentCoding[],
): ContentCoding | undefined {
  if (!header) return undefined
  const weights = new Map<string, number>()
  for (const part of header.split(',')) {
    const semicolon = part.indexOf(';')
    let name = (semicolon === -1 ? part : part.slice(0, semicolon)).trim().toLowerCase()
    if (name === 'x-gzip') name = 'gzip'
    if (name.length === 0) continue
    const weight = semicolon === -1 ? 1 : qValue(part.slice(semicolon + 1))
    // A name listed twice keeps its highest weight; a malformed q counts as refusal.
    weights.set(name, Math.max(weights.get(name) ?? 0, weight))
  }
  const any = weights.get('*')
  let best: ContentCoding | undefined
  let bestWeight = 0
  for (const coding of offered) {
    const weight = weights.get(coding) ?? any ?? 0
    if (weight > bestWeight) {
      best = coding
      bestWeight = weight
    }
  }
  return best
}

const qParameter = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i

function qValue(parameters: string): number {
  for (const parameter of parameters.split(';')) {
    if (!/^\s*q\s*=/i.test(parameter)) continue
    const match = qParameter.exec(parameter)
    const q = match ? Number(match[1]) : 0
    return q > 1 ? 0 : q
  }
  return 1
}

/**
 * {@link negotiateEncoding} with a small memo: clients send a handful of distinct headers, so
 * the parse runs once per header value, not once per request. Bounded, so hostile headers
 * cannot grow it.
 */
export function encodingNegotiator(
  offered: readonly ContentCoding[],
): (header: string | undefined) => ContentCoding | undefined {
  const memo = new Map<string, ContentCoding | null>()
  return (header) => {
    if (!header) return undefined
    const known = memo.get(header)
    if (known !== undefined) return known ?? undefined
    const coding = negotiateEncoding(header, offered)
    if (memo.size >= 256) memo.clear()
    if (header.length <= 256) memo.set(header, coding ?? null)
    return coding
  }
}
