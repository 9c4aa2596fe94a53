import type { Stats } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'

/**
 * A weak ETag from size and modification time (`W/"<size>-<mtime>"`, hex), plus the content
 * coding for a precompressed variant. Weak, because size and time do not prove two files are
 * byte-identical; it still validates caches (304), and `If-Range` falls back to `Last-Modified`.
 */
export function etagFor(stats: Stats, encoding: string | undefined): string {
  const tag = `${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}`
  return `W/"${encoding ? `${tag}-${encoding}` : tag}"`
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag)

/**
 * RFC 9110 §13.1.1-2 for GET and HEAD: `If-None-Match` (weak comparison, `*`) decides when
 * present; otherwise `If-Modified-Since`, at one-second resolution.
 */
export function isNotModified(
  headers: IncomingHttpHeaders,
  etag: string | undefined,
  mtimeMs: number | undefined,
): boolean {
  const noneMatch = headers['if-none-match']
  if (noneMatch !== undefined) {
    if (noneMatch.trim() === '*') return true
    if (etag === undefined) return false
    const wanted = opaque(etag)
    return noneMatch.split(',').some((candidate) => opaque(candidate.trim()) === wanted)
  }
  const since = headers['if-modified-since']
  if (since === undefined || mtimeMs === undefined) return false
  const sinceMs = Date.parse(since)
  return !Number.isNaN(sinceMs) && Math.floor(mtimeMs / 1000) * 1000 <= sinceMs
}

/**
 * RFC 9110 §13.1.5: a range applies only if `If-Range` still names this representation. Our
 * ETags are weak and never match (strong comparison required); a date must equal
 * `Last-Modified` exactly.
 */
export function isRangeStillValid(headers: IncomingHttpHeaders, lastModified: string | undefined): boolean {
  const ifRange = headers['if-range']
  if (ifRange === undefined) return true
  if (typeof ifRange !== 'string') return false
  const value = ifRange.trim()
  if (value.startsWith('"') || value.startsWith('W/')) return false
  return value === lastModified
}
