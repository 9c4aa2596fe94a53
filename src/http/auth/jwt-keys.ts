import { createPublicKey, createSecretKey, type JsonWebKey, KeyObject } from 'node:crypto'
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose'
import { KeelError } from '../../errors/index.ts'
import {
  asymmetricAlgorithms,
  ecAlgorithmByCurve,
  edwardsAlgorithms,
  hmacAlgorithms,
  type JwtAlgorithm,
  rsaAlgorithms,
  rsaPssAlgorithms,
} from './jwt-algorithms.ts'

/** Where a {@link jwtAuth} guard gets its verification keys: exactly one of the three. */
export type JwtKeyOptions =
  | {
      /** Shared secret for HS256/384/512: at least 32 bytes (256 bits), and as long as the hash of each algorithm used. */
      secret: string | Uint8Array
      publicKey?: never
      jwksUrl?: never
    }
  | {
      /** A public key: SPKI PEM (`-----BEGIN PUBLIC KEY-----`), an X.509 certificate PEM, a JWK or a `KeyObject`. */
      publicKey: string | JsonWebKey | KeyObject
      secret?: never
      jwksUrl?: never
    }
  | {
      /** An `https:` JWKS URL (plain `http:` only on loopback); keys are cached and refetched on an unknown `kid`. */
      jwksUrl: string | URL
      secret?: never
      publicKey?: never
    }

/** How a JWKS is fetched and cached. */
export interface JwksOptions {
  /** Keep a fetched key set this long before fetching again. Default 10 minutes. */
  cacheMaxAgeMs?: number
  /** After a fetch, wait this long before an unknown `kid` may trigger another. Default 30 s. */
  cooldownMs?: number
  /** Give up on a fetch after this long. Default 5 s. */
  timeoutMs?: number
}

/** The keys a guard verifies with and the algorithms it allows, resolved once at start-up. */
export interface JwtKeys {
  kind: 'secret' | 'publicKey' | 'jwks'
  key: KeyObject | JWTVerifyGetKey
  algorithms: readonly JwtAlgorithm[]
  /** The JWKS URL without credentials or query, for the app description. */
  jwksUrl?: string
}

/** Thrown by the JWKS key getter when the key set cannot be fetched or parsed: not the client's fault. */
export class JwksUnavailableError extends Error {}

const configError = (message: string) => new KeelError('KEEL_GUARD_OPTIONS', `jwtAuth: ${message}`)

/**
 * Resolves the key source of `options` and the algorithm allow-list that goes with it. The list
 * is derived from the key (an RSA key allows RS* and PS*, a P-256 key ES256, an Ed25519 key
 * EdDSA, a secret the HS* its length supports); an explicit `algorithms` may only narrow it.
 * So `none` is never accepted and a public key can never be used as an HMAC secret.
 */
export function resolveJwtKeys(
  options: JwtKeyOptions,
  algorithms: readonly JwtAlgorithm[] | undefined,
  jwks: JwksOptions = {},
): JwtKeys {
  const sources = (['secret', 'publicKey', 'jwksUrl'] as const).filter((name) => options[name] !== undefined)
  if (sources.length !== 1) {
    throw configError(
      sources.length === 0
        ? 'give one of secret, publicKey or jwksUrl'
        : `give only one of secret, publicKey or jwksUrl (got ${sources.join(' and ')})`,
    )
  }
  if (algorithms !== undefined && algorithms.length === 0) throw configError('algorithms must not be empty')
  if (options.secret !== undefined) return secretKeys(options.secret, algorithms)
  if (options.publicKey !== undefined) return publicKeys(options.publicKey, algorithms)
  return jwksKeys(options.jwksUrl!, algorithms, jwks)
}

function secretKeys(secret: string | Uint8Array, requested: readonly JwtAlgorithm[] | undefined): JwtKeys {
  if (typeof secret === 'string' && /-----BEGIN [A-Z ]+-----|^\s*\{/.test(secret)) {
    // Using a public key's text as an HMAC secret is the key-confusion attack; refuse it outright.
    throw configError('secret looks like a PEM or JWK key; pass a public key as publicKey, never as secret')
  }
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
  const supported = hmacAlgorithms.filter(([, minBytes]) => bytes.length >= minBytes).map(([alg]) => alg)
  if (supported.length === 0) {
    throw configError(`secret is ${bytes.length} bytes; HS256 needs at least 32 (RFC 7518 §3.2)`)
  }
  return {
    kind: 'secret',
    key: createSecretKey(bytes),
    algorithms: narrow(supported, requested, 'the secret'),
  }
}

function publicKeys(
  input: string | JsonWebKey | KeyObject,
  requested: readonly JwtAlgorithm[] | undefined,
): JwtKeys {
  const key = toPublicKey(input)
  const jwkAlg = !(input instanceof KeyObject) && typeof input === 'object' ? input.alg : undefined
  let supported = algorithmsFor(key)
  if (typeof jwkAlg === 'string') {
    if (!supported.includes(jwkAlg as JwtAlgorithm))
      throw configError(`the JWK's alg ${jwkAlg} does not fit its key`)
    supported = [jwkAlg as JwtAlgorithm]
  }
  return { kind: 'publicKey', key, algorithms: narrow(supported, requested, 'the public key') }
}

function toPublicKey(input: string | JsonWebKey | KeyObject): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'public') throw configError(`publicKey is a ${input.type} key; pass the public key`)
    return input
  }
  if (typeof input === 'string') {
    if (/PRIVATE KEY-----/.test(input)) throw configError('publicKey is a private key; pass the public key')
    try {
      return createPublicKey(input)
    } catch {
      throw configError('publicKey is not a PEM public key or certificate')
    }
  }
  if (input.kty === 'oct') throw configError('publicKey is a symmetric JWK; pass it as secret')
  if (input.d !== undefined) throw configError('publicKey is a private JWK; pass the public key')
  try {
    return createPublicKey({ key: input, format: 'jwk' })
  } catch {
    throw configError('publicKey is not a valid public JWK')
  }
}

function algorithmsFor(key: KeyObject): readonly JwtAlgorithm[] {
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      if ((details.modulusLength ?? 0) < 2048) throw configError('RSA keys must have at least 2048 bits')
      return key.asymmetricKeyType === 'rsa' ? rsaAlgorithms : rsaPssAlgorithms
    case 'ec': {
      const alg = ecAlgorithmByCurve[details.namedCurve ?? '']
      if (!alg) throw configError(`EC curve ${details.namedCurve} is not supported (P-256, P-384, P-521)`)
      return [alg]
    }
    case 'ed25519':
      return edwardsAlgorithms
    default:
      throw configError(`${key.asymmetricKeyType} keys are not supported`)
  }
}

function jwksKeys(
  input: string | URL,
  requested: readonly JwtAlgorithm[] | undefined,
  jwks: JwksOptions,
): JwtKeys {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw configError('jwksUrl is not a URL')
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw configError('jwksUrl must be https: (plain http: only on localhost)')
  }
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: jwks.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: jwks.cooldownMs ?? 30_000,
    timeoutDuration: jwks.timeoutMs ?? 5_000,
  })
  const key: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token)
    } catch (error) {
      // An unknown kid or an algorithm no key fits is the token's fault; anything else is ours.
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error
      }
      throw new JwksUnavailableError('the JWKS could not be fetched or parsed', { cause: error })
    }
  }
  return {
    kind: 'jwks',
    key,
    algorithms: narrow(asymmetricAlgorithms, requested, 'a JWKS'),
    jwksUrl: url.origin + url.pathname,
  }
}

/** `requested` if every entry is in `supported`, else a configuration error naming the misfits. */
function narrow(
  supported: readonly JwtAlgorithm[],
  requested: readonly JwtAlgorithm[] | undefined,
  what: string,
): readonly JwtAlgorithm[] {
  if (requested === undefined) return supported
  const misfits = requested.filter((alg) => !supported.includes(alg))
  if (misfits.length > 0) {
    throw configError(
      `algorithms ${misfits.join(', ')} cannot be used with ${what} (allowed: ${supported.join(', ')})`,
    )
  }
  return [...new Set(requested)]
}
