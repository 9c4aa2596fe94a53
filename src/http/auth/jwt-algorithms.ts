/** The JWS algorithms a {@link jwtAuth} guard can accept; `none` is not among them and never will be. */
export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

/** HMAC algorithms with the smallest secret each needs, in bytes (RFC 7518 §3.2: at least the hash size). */
export const hmacAlgorithms: ReadonlyArray<readonly [JwtAlgorithm, number]> = [
  ['HS256', 32],
  ['HS384', 48],
  ['HS512', 64],
]

export const rsaAlgorithms: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
export const rsaPssAlgorithms: readonly JwtAlgorithm[] = ['PS256', 'PS384', 'PS512']
export const edwardsAlgorithms: readonly JwtAlgorithm[] = ['EdDSA', 'Ed25519']
/** Node's curve names → the one ECDSA algorithm each curve signs with. */
export const ecAlgorithmByCurve: Readonly<Record<string, JwtAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
}
/** Every asymmetric algorithm: what a JWKS guard accepts unless told otherwise. */
export const asymmetricAlgorithms: readonly JwtAlgorithm[] = [
  ...rsaAlgorithms,
  'ES256',
  'ES384',
  'ES512',
  ...edwardsAlgorithms,
]
