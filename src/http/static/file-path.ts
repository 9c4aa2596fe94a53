import { join, sep } from 'node:path'

/** Where a request path leads: file segments under the root, or why it leads nowhere. */
export type RequestedFile =
  | { ok: true; segments: string[] }
  /** `invalid`: malformed or hostile (400); `hidden`: a dotfile while they are not served (404). */
  | { ok: false; reason: 'invalid' | 'hidden' }

/** Percent-encoded `/`, `\` and NUL: a path segment may never smuggle a separator or a terminator. */
const encodedSeparator = /%(2f|5c|00)/i

/**
 * Turns the raw (still percent-encoded) path below the prefix into decoded segments, trusting
 * nothing: malformed percent-encoding, encoded separators, backslashes, NUL bytes and `..`
 * segments are refused outright rather than normalized away, so no spelling of a traversal
 * (`/../`, `%2e%2e`, `..%2f`, `..\`) reaches the file system. Empty and `.` segments are dropped.
 *
 * @example
 * ```ts
 * requestedFile('/css/site.css', false) // { ok: true, segments: ['css', 'site.css'] }
 * requestedFile('/%2e%2e/etc/passwd', false) // { ok: false, reason: 'invalid' }
 * ```
 */
export function requestedFile(rawPath: string, allowDotfiles: boolean): RequestedFile {
  if (encodedSeparator.test(rawPath) || rawPath.includes('\\') || rawPath.includes('\0')) {
    return { ok: false, reason: 'invalid' }
  }
  const segments: string[] = []
  for (const raw of rawPath.split('/')) {
    let segment: string
    try {
      segment = decodeURIComponent(raw)
    } catch {
      return { ok: false, reason: 'invalid' }
    }
    if (segment === '' || segment === '.') continue
    if (segment === '..' || segment.includes('\0') || segment.includes('/') || segment.includes('\\')) {
      return { ok: false, reason: 'invalid' }
    }
    if (!allowDotfiles && segment.startsWith('.')) return { ok: false, reason: 'hidden' }
    segments.push(segment)
  }
  return { ok: true, segments }
}

/** True when `path` is `root` or lies below it (both absolute and normalized). */
export const isInside = (root: string, path: string): boolean =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)

/** The file's path under `root`, or undefined if joining would leave it (defence in depth). */
export function pathUnder(root: string, segments: readonly string[]): string | undefined {
  const path = join(root, ...segments)
  return isInside(root, path) ? path : undefined
}
