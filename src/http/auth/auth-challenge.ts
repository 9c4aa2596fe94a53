import { HttpError } from '../http-error.ts'
import type { RequestContext } from '../route.ts'

/**
 * `Bearer realm="api", error="invalid_token"`: one `WWW-Authenticate` challenge (RFC 9110
 * §11.6.1). Parameter values are quoted strings limited to the characters RFC 6750 allows
 * (printable ASCII without `"` and `\`); anything else is dropped, so a configured realm or a
 * scope name can never break the header. Undefined parameters are left out.
 */
export function formatChallenge(
  scheme: string,
  params: Readonly<Record<string, string | undefined>> = {},
): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) parts.push(`${name}="${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`)
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`
}

const offered = new WeakMap<RequestContext, string[]>()

/**
 * Records that an auth guard let this request through without a principal (optional mode) and
 * would have accepted `challenge`, so a later guard that needs a principal (`authorize`,
 * `requirePrincipal`) answers 401 with every scheme the client could have used. Requests that
 * authenticate never get here, so the hot path allocates nothing for it.
 */
export function offerChallenge(ctx: RequestContext, challenge: string): void {
  const list = offered.get(ctx)
  if (list === undefined) offered.set(ctx, [challenge])
  else if (!list.includes(challenge)) list.push(challenge)
}

/** The challenges offered on this request, joined for one `WWW-Authenticate` header; `Bearer` when none were. */
export function challengesFor(ctx: RequestContext): string {
  return offered.get(ctx)?.join(', ') ?? 'Bearer'
}

/** A 401 `KEEL_UNAUTHORIZED` problem carrying `challenge` as its `WWW-Authenticate` header. */
export function unauthorized(challenge: string, detail: string): HttpError {
  return new HttpError(401, 'KEEL_UNAUTHORIZED', detail, {}, { 'www-authenticate': challenge })
}
