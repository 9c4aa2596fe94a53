import pino from 'pino'

/** The text that replaces a secret in logs. */
export const REDACTED = '[REDACTED]'

/**
 * Key names that hold secrets wherever they appear, compared lowercased with `-` and `_` removed,
 * so `X-Api-Key`, `api_key` and `apiKey` all match.
 */
export const wellKnownSecretKeys: ReadonlySet<string> = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'xapikey',
  'apitoken',
  'privatekey',
  'sessionid',
  'credentials',
  'creditcard',
  'cardnumber',
  'cvv',
  'ssn',
])

/**
 * Endings that make any key a secret: `x-auth-token`, `dbPassword`, `webhook_secret`,
 * `stripeApiKey`. Plurals such as `total_tokens` do not match.
 */
const secretEndings = ['password', 'passwd', 'secret', 'token', 'apikey', 'privatekey', 'sessionid', 'cookie']

const normalize = (key: string) => key.toLowerCase().replace(/[-_.]/g, '')

/** True when a key names a secret: one of the well-known keys, or one ending like a secret. */
export function isSecretKey(key: string): boolean {
  return isSecretName(normalize(key))
}

/** Key names added at run time by {@link markSecretKey} (an auth guard's custom header). */
const addedSecretKeys = new Set<string>()

const isSecretName = (normalized: string) =>
  wellKnownSecretKeys.has(normalized) ||
  addedSecretKeys.has(normalized) ||
  secretEndings.some((end) => normalized.endsWith(end))

/**
 * Makes `key` a secret everywhere logs are redacted, e.g. the header an API-key guard reads
 * (`x-partner-key`), which the well-known names would not catch.
 */
export function markSecretKey(key: string): void {
  addedSecretKeys.add(normalize(key))
  keyKinds.clear()
}

/** Keys whose string values are URLs: `url`, `callback_url`, `redirect_uri`, `href`, `referer`, … */
const isUrlName = (normalized: string) =>
  /(url|uri|href)$/.test(normalized) ||
  normalized === 'referer' ||
  normalized === 'referrer' ||
  normalized === 'location'

const PLAIN = 0
const SECRET = 1
const URL_VALUED = 2
/**
 * What each key name is, computed once: log lines repeat the same few hundred keys, and
 * normalizing a key (lowercase, regex) on every line was the largest cost of logging under load.
 * Bounded, so keys derived from data (ids used as keys) cannot grow it without limit.
 */
const keyKinds = new Map<string, number>()
function kindOf(key: string): number {
  let kind = keyKinds.get(key)
  if (kind === undefined) {
    const name = normalize(key)
    kind = isSecretName(name) ? SECRET : isUrlName(name) ? URL_VALUED : PLAIN
    if (keyKinds.size >= 2048) keyKinds.clear()
    keyKinds.set(key, kind)
  }
  return kind
}

/** Deeper than this, objects are replaced by a marker rather than written unchecked. */
const maxDepth = 32

/**
 * Returns `value` with every secret key (see {@link isSecretKey}) replaced by `[REDACTED]`, at
 * any depth. Objects on the way to a secret are copied; the caller's objects are never changed,
 * and a value without secrets is returned as is (no allocation on the common path). Errors become
 * their serialized form (type, message, stack, own fields) so fields they carry are redacted too;
 * a cycle becomes `[Circular]` and anything nested past 32 levels `[Truncated]`, so no secret can
 * hide beyond the walk.
 */
export function redactDeep(value: unknown): unknown {
  return value === null || typeof value !== 'object' ? value : redactValue(value, [])
}

function redactValue(value: unknown, ancestors: object[]): unknown {
  if (value === null || typeof value !== 'object') return value
  // Most values logged are plain objects (every line's own fields): one prototype check spares
  // them the Buffer, view, Date, Error and array checks.
  const proto = Object.getPrototypeOf(value)
  const isPlain = proto === Object.prototype || proto === null
  if (!isPlain && (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof Date)) return value
  if (ancestors.includes(value)) return '[Circular]'
  if (ancestors.length >= maxDepth) return '[Truncated]'
  if (!isPlain && value instanceof Error) return redactValue(pino.stdSerializers.err(value), ancestors)
  ancestors.push(value)
  try {
    if (!isPlain && Array.isArray(value)) {
      let copy: unknown[] | undefined
      value.forEach((item, i) => {
        const redacted = redactValue(item, ancestors)
        if (redacted !== item) {
          copy ??= [...value]
          copy[i] = redacted
        }
      })
      return copy ?? value
    }
    let copy: Record<string, unknown> | undefined
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key]
      const kind = item === undefined ? PLAIN : kindOf(key)
      const redacted =
        kind === SECRET
          ? REDACTED
          : typeof item === 'string'
            ? kind === URL_VALUED
              ? redactUrl(item)
              : item
            : redactValue(item, ancestors)
      if (redacted !== item) {
        copy ??= { ...(value as Record<string, unknown>) }
        copy[key] = redacted
      }
    }
    return copy ?? value
  } finally {
    ancestors.pop()
  }
}

const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i

/**
 * A URL (or path) with credentials hidden: the values of secret-named query parameters
 * (`/cb?token=[REDACTED]`) and the password of `scheme://user:password@host` (a lone user
 * name, often a token, too).
 */
export function redactUrl(url: string): string {
  const credentials = url.includes('@') ? userinfo.exec(url) : null
  if (credentials) {
    const [whole, scheme, info] = credentials
    const colon = info!.indexOf(':')
    const hidden = colon === -1 ? REDACTED : `${info!.slice(0, colon)}:${REDACTED}`
    url = `${scheme}${hidden}@${url.slice(whole.length)}`
  }
  const q = url.indexOf('?')
  if (q === -1) return url
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const key = eq === -1 ? pair : pair.slice(0, eq)
      return eq !== -1 && isSecretKey(decodeURIComponentSafe(key)) ? `${key}=${REDACTED}` : pair
    })
  return `${url.slice(0, q)}?${params.join('&')}`
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
