/** The outcome of reading a `Range` header against a representation of `size` bytes. */
export type RangeRequest =
  /** No usable range: send the whole representation (absent, not bytes, malformed, or several ranges). */
  | { kind: 'whole' }
  | { kind: 'partial'; start: number; end: number }
  /** Syntactically fine but past the end: 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' }

const single = /^bytes=(\d*)-(\d*)$/

/**
 * Reads one byte range (RFC 9110 §14.1.2): `bytes=0-99`, `bytes=100-`, `bytes=-100`. A server may
 * ignore a `Range` header, and Keel ignores multi-range requests (they would need
 * multipart/byteranges for little benefit) and malformed ones, answering 200 with the whole file.
 *
 * @example
 * ```ts
 * parseRange('bytes=0-99', 1000) // { kind: 'partial', start: 0, end: 99 }
 * parseRange('bytes=2000-', 1000) // { kind: 'unsatisfiable' }
 * ```
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' }
  const match = single.exec(header.trim())
  if (!match) return { kind: 'whole' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { kind: 'whole' }
  if (first === '') {
    const suffix = Number(last)
    if (!Number.isSafeInteger(suffix)) return { kind: 'whole' }
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'whole' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: Math.min(end, size - 1) }
}
