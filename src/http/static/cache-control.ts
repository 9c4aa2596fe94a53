/** A `Cache-Control` value for the files whose path (relative to the root, with a leading `/`) matches. */
export interface CacheRule {
  pattern: RegExp
  value: string
}

/** A value for every file, or a default with per-pattern rules (the first matching rule wins). */
export type CacheControlOption = string | { default?: string; rules?: readonly CacheRule[] }

/** For files whose name carries a content hash: they never change, so caches may keep them a year. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable'

/** Revalidate every time (cheap with ETag and 304): right for files whose name does not change with content. */
export const DEFAULT_CACHE_CONTROL = 'no-cache'

/**
 * A content hash in a file name: `app.3f9a1c2b.js`, `index-B3xk29Qa.css`, `chunk_8d2f0a1e.mjs`. The
 * segment before the extension must be 8+ letters/digits/underscores with at least one digit
 * and one letter, so `logo.png` or `my-document.pdf` do not count. Heuristics can misfire, which
 * is why `immutable` is opt-in; pass a RegExp (`/^\/assets\//` for a Vite build) to be exact.
 */
export const HASHED_FILE_NAME =
  /[.-](?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+$/

/** Builds the function that picks a file's `Cache-Control`: rules, then `immutable`, then the default. */
export function cacheControlFor(
  option: CacheControlOption | undefined,
  immutable: boolean | RegExp | undefined,
): (relativePath: string) => string {
  const rules = typeof option === 'object' ? (option.rules ?? []) : []
  const fallback = (typeof option === 'object' ? option.default : option) ?? DEFAULT_CACHE_CONTROL
  const hashed = immutable === true ? HASHED_FILE_NAME : immutable instanceof RegExp ? immutable : undefined
  return (relativePath) => {
    for (const rule of rules) if (rule.pattern.test(relativePath)) return rule.value
    if (hashed?.test(relativePath)) return IMMUTABLE_CACHE_CONTROL
    return fallback
  }
}
