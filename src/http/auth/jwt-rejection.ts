import { errors } from 'jose'
import type { AuthOutcome } from './auth-metrics.ts'

/** Why a token was refused: a fixed description safe to show the client, and a reason for the log. */
export interface JwtRejection {
  /** For `error_description` and the problem's `detail`; never contains the token or key material. */
  description: string
  /** Stable reason for logs: `expired`, `signature`, `claim:iss`, … */
  reason: string
  /** The `outcome` label of `keel_auth_requests_total`: a closed set, unlike `reason`. */
  outcome: JwtRejectionOutcome
}

/** The outcomes a refused JWT is counted under. */
export type JwtRejectionOutcome = Extract<
  AuthOutcome,
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'bad_algorithm'
  | 'bad_claims'
  | 'unknown_key'
  | 'unsupported'
  | 'invalid'
>

const claimDescriptions: Readonly<Record<string, string>> = {
  nbf: 'the token is not yet valid',
  iss: 'the token has an issuer this service does not accept',
  aud: 'the token is not meant for this service (audience)',
  iat: 'the token is too old or its issue time is invalid',
  typ: 'the token has the wrong type',
  exp: 'the token has no valid expiry',
}

/**
 * Classifies what `jwtVerify` threw. The description is one of a few fixed sentences: jose's
 * own messages can quote header values, and the client learns nothing it did not send.
 */
export function jwtRejection(error: unknown): JwtRejection {
  if (error instanceof errors.JWTExpired)
    return { description: 'the token has expired', reason: 'expired', outcome: 'expired' }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim
    if (error.reason === 'missing') {
      return {
        description: `the token lacks the required ${claim} claim`,
        reason: `missing:${claim}`,
        outcome: 'bad_claims',
      }
    }
    return {
      description: claimDescriptions[claim] ?? `the token's ${claim} claim is not accepted`,
      reason: `claim:${claim}`,
      outcome: claim === 'nbf' ? 'not_yet_valid' : 'bad_claims',
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return { description: 'the token signature is invalid', reason: 'signature', outcome: 'bad_signature' }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return {
      description: 'the token algorithm is not accepted',
      reason: 'algorithm',
      outcome: 'bad_algorithm',
    }
  }
  if (error instanceof errors.JOSENotSupported) {
    // An unrecognised `crit` header parameter, or an algorithm no key of a JWKS can serve.
    return {
      description: 'the token uses a header or algorithm this service does not support',
      reason: 'unsupported',
      outcome: 'unsupported',
    }
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return {
      description: 'no key of this service matches the token',
      reason: 'unknown-key',
      outcome: 'unknown_key',
    }
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return { description: 'the token is malformed', reason: 'malformed', outcome: 'malformed' }
  }
  return { description: 'the token is invalid', reason: 'invalid', outcome: 'invalid' }
}
