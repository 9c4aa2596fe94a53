import { errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose'
import { KeelError } from '../../errors/index.ts'
import type { Guard } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import { formatChallenge, offerChallenge, unauthorized } from './auth-challenge.ts'
import { AuthDecisions } from './auth-decision.ts'
import { authorizationCredentials } from './authorization-header.ts'
import { principalFromClaims } from './claims-principal.ts'
import type { JwtAlgorithm } from './jwt-algorithms.ts'
import {
  type JwksOptions,
  JwksUnavailableError,
  type JwtKeyOptions,
  type JwtKeys,
  resolveJwtKeys,
} from './jwt-keys.ts'
import { jwtRejection } from './jwt-rejection.ts'

/** Options of {@link jwtAuth}: one key source plus what a token must satisfy. */
export type JwtAuthOptions = JwtKeyOptions & {
  /**
   * Algorithms to accept. Default: every algorithm the key supports (HS* by secret length, RS* and
   * PS* for RSA, the curve's ES* for EC, EdDSA for Ed25519, all asymmetric ones for a JWKS). It
   * may only narrow that set; `none` and HS* with a public key are configuration errors.
   */
  algorithms?: readonly JwtAlgorithm[]
  /** Accepted `iss` value(s). Required with `jwksUrl`. */
  issuer?: string | readonly string[]
  /** Accepted `aud` value(s); a token must name one of them. Required with `jwksUrl`. */
  audience?: string | readonly string[]
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockSkewSec?: number
  /** Reject tokens issued (`iat`) longer ago than this, in seconds. Off by default. */
  maxTokenAgeSec?: number
  /** Claims every token must carry, besides `exp` (always required unless `requireExpiry: false`). */
  requiredClaims?: readonly string[]
  /** Require `exp`. Default true: a token without an expiry would be valid forever. */
  requireExpiry?: boolean
  /** Expected `typ` header (`at+jwt` for RFC 9068 access tokens). Not checked by default. */
  typ?: string
  /** Claim holding the principal's id. Default `sub`. */
  subjectClaim?: string
  /** Claim holding the roles (dots walk into objects: `realm_access.roles`). Default `roles`. */
  rolesClaim?: string
  /** Without a bearer token: 401 (true, the default) or go on without a principal (false). An invalid token is always 401. */
  required?: boolean
  /** `realm` of the `WWW-Authenticate` challenge. None by default. */
  realm?: string
  /** Name of the security scheme in OpenAPI. Default `bearerAuth`. */
  securityScheme?: string
  /** How a JWKS is cached and refetched. */
  jwks?: JwksOptions
}

/**
 * A guard that verifies `Authorization: Bearer <jwt>` with jose and sets `ctx.principal`.
 *
 * Checked: the signature against the configured key (shared secret, public key, or a JWKS URL
 * whose keys are cached and refetched when a new `kid` appears), the algorithm against an
 * allow-list derived from the key, `exp` (required) and `nbf` with clock skew, `iss`, `aud`,
 * required claims and the subject. A missing token is 401 with `WWW-Authenticate: Bearer`; an
 * invalid one is 401 with `error="invalid_token"` and a short `error_description` (RFC 6750).
 * Tokens in the query string are ignored. An unreachable JWKS is 503 `KEEL_AUTH_UNAVAILABLE`.
 * Every decision is counted in `keel_auth_requests_total{guard="auth.jwt",outcome}` of the app
 * the guard is registered on (see `AuthOutcome`; never anything from the token), and published
 * on the `keel:auth` diagnostics channel (see `AuthDecision`).
 *
 * @example
 * ```ts
 * app.group('/api', {
 *   guards: [jwtAuth({ jwksUrl: 'https://id.example.com/.well-known/jwks.json',
 *     issuer: 'https://id.example.com/', audience: 'orders-api' })],
 * }, (api) => {
 *   api.get('/me', (ctx) => ({ id: ctx.principal?.id, roles: ctx.principal?.roles }))
 * })
 * ```
 */
export function jwtAuth(options: JwtAuthOptions): Guard {
  const keys = resolveJwtKeys(options, options.algorithms, options.jwks)
  const issuer = list(options.issuer)
  const audience = list(options.audience)
  if (keys.kind === 'jwks' && (issuer === undefined || audience === undefined)) {
    // A JWKS usually serves many apps of one identity provider: without iss and aud, a token
    // minted for any of them would pass here.
    throw new KeelError('KEEL_GUARD_OPTIONS', 'jwtAuth: a jwksUrl guard needs issuer and audience')
  }
  const clockSkewSec = options.clockSkewSec ?? 30
  if (!Number.isFinite(clockSkewSec) || clockSkewSec < 0) {
    throw new KeelError('KEEL_GUARD_OPTIONS', 'jwtAuth: clockSkewSec must be a non-negative number')
  }
  const subjectClaim = options.subjectClaim ?? 'sub'
  const rolesClaim = options.rolesClaim ?? 'roles'
  const required = options.required ?? true
  const verifyOptions: JWTVerifyOptions = {
    algorithms: [...keys.algorithms],
    issuer,
    audience,
    clockTolerance: clockSkewSec,
    maxTokenAge: options.maxTokenAgeSec,
    typ: options.typ,
    requiredClaims: [
      ...new Set([...(options.requireExpiry === false ? [] : ['exp']), ...(options.requiredClaims ?? [])]),
    ],
  }
  const challenge = formatChallenge('Bearer', { realm: options.realm })
  const outcomes = new AuthDecisions('auth.jwt', [
    'accepted',
    'missing',
    'anonymous',
    'malformed',
    'expired',
    'not_yet_valid',
    'bad_signature',
    'bad_algorithm',
    'bad_claims',
    'unknown_key',
    'unsupported',
    'invalid',
    'unavailable',
  ])
  const invalid = (description: string) =>
    unauthorized(
      formatChallenge('Bearer', {
        realm: options.realm,
        error: 'invalid_token',
        error_description: description,
      }),
      description,
    )

  return {
    name: 'auth.jwt',
    options: Object.freeze(
      descriptionOf(options, keys, { issuer, audience, clockSkewSec, rolesClaim, required }),
    ),
    attach: outcomes.attach,
    async handle(ctx, next) {
      const token = authorizationCredentials(header(ctx.headers.authorization), 'Bearer')
      if (token === undefined) {
        if (required) {
          outcomes.decide(ctx, 'missing')
          throw unauthorized(challenge, 'the request carries no bearer token')
        }
        outcomes.decide(ctx, 'anonymous')
        // A later guard that needs a principal will offer this scheme in its 401.
        offerChallenge(ctx, challenge)
        return next()
      }
      if (token === '') {
        outcomes.decide(ctx, 'malformed')
        throw invalid('the bearer token is empty')
      }
      let payload: JWTPayload
      try {
        payload = await verify(token, keys, verifyOptions)
      } catch (error) {
        if (error instanceof JwksUnavailableError) {
          outcomes.decide(ctx, 'unavailable')
          ctx.log.warn({ err: error.cause, auth: 'jwt' }, 'jwt: the JWKS is unavailable')
          throw cannotVerify()
        }
        const rejection = jwtRejection(error)
        outcomes.decide(ctx, rejection.outcome)
        ctx.log.debug({ auth: 'jwt', reason: rejection.reason }, 'jwt: token rejected')
        throw invalid(rejection.description)
      }
      const principal = principalFromClaims(payload, { subjectClaim, rolesClaim })
      if (principal === undefined) {
        outcomes.decide(ctx, 'bad_claims')
        throw invalid(`the token lacks the ${subjectClaim} claim`)
      }
      ctx.principal = principal
      outcomes.decide(ctx, 'accepted')
      return next()
    },
  }
}

/** Verifies `token`; when several JWKS keys fit a token without `kid`, tries each (as jose advises). */
async function verify(token: string, keys: JwtKeys, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys.key as Parameters<typeof jwtVerify>[1], options)).payload
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner
      }
    }
    throw new errors.JWSSignatureVerificationFailed()
  }
}

/** 503: the key set is unreachable, which is not the client's fault; retry shortly. */
const cannotVerify = () =>
  new HttpError(
    503,
    'KEEL_AUTH_UNAVAILABLE',
    'the service cannot verify tokens right now',
    {},
    { 'retry-after': '5' },
  )

const list = (value: string | readonly string[] | undefined): string | string[] | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : [...value]

/** Node gives a header as an array only for `set-cookie`; be strict anyway. */
const header = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? undefined : value

function descriptionOf(
  options: JwtAuthOptions,
  keys: JwtKeys,
  resolved: {
    issuer: string | string[] | undefined
    audience: string | string[] | undefined
    clockSkewSec: number
    rolesClaim: string
    required: boolean
  },
): Record<string, unknown> {
  const description: Record<string, unknown> = {
    securityScheme: options.securityScheme ?? 'bearerAuth',
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    required: resolved.required,
    keySource: keys.kind,
    algorithms: [...keys.algorithms],
    clockSkewSec: resolved.clockSkewSec,
    rolesClaim: resolved.rolesClaim,
  }
  if (keys.jwksUrl !== undefined) description.jwksUrl = keys.jwksUrl
  if (resolved.issuer !== undefined) description.issuer = resolved.issuer
  if (resolved.audience !== undefined) description.audience = resolved.audience
  return description
}
