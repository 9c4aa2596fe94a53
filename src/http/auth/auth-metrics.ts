import type { Registry } from 'prom-client'
import { type BoundCounter, boundCounter, perRegistry } from '../../telemetry/index.ts'

/**
 * How an auth guard decided: the `outcome` label of `keel_auth_requests_total`. A closed set,
 * so the series are bounded and never carry anything from the request (no token, no key id):
 *
 * - `accepted`: credentials verified (or, for `authorize`, the principal has what is required);
 * - `anonymous`: no credentials, let through because the guard has `required: false`;
 * - `missing`: no credentials, refused (401);
 * - `malformed`: the credentials cannot be parsed (an empty or garbled token);
 * - `expired`, `not_yet_valid`: the token's or key's time window (`exp`, `nbf`, `expiresAt`);
 * - `bad_signature`, `bad_algorithm`, `unknown_key`, `unsupported`: the JWT signature check;
 * - `bad_claims`: `iss`, `aud`, `typ`, `iat`, a required claim or the subject claim;
 * - `invalid`: any other refusal (an unknown API key, a token jose rejects otherwise);
 * - `unavailable`: the keys could not be checked (JWKS or key lookup down; 503);
 * - `unauthenticated`, `forbidden`: `authorize` found no principal (401), or one lacking a role or scope (403).
 */
export type AuthOutcome =
  | 'accepted'
  | 'anonymous'
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'bad_algorithm'
  | 'bad_claims'
  | 'unknown_key'
  | 'unsupported'
  | 'invalid'
  | 'unavailable'
  | 'unauthenticated'
  | 'forbidden'

/** `keel_auth_requests_total{guard,outcome}` of one registry. */
export const authMetrics: (registry: Registry) => { readonly requests: BoundCounter } = perRegistry(
  (registry) => ({
    requests: boundCounter(registry, {
      name: 'keel_auth_requests_total',
      help: 'Requests an auth guard decided, by guard (auth.jwt, auth.apiKey, auth.authorize) and outcome',
      labelNames: ['guard', 'outcome'],
    }),
  }),
)
