import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose'

export const ISSUER = 'https://id.keel.test/'
export const AUDIENCE = 'orders-api'
/** 48 bytes: long enough for HS256 and HS384, too short for HS512. */
export const SECRET = 'a-test-secret-that-is-48-bytes-long-000000000000'

/** A key pair made by jose, with its public half as PEM and JWK. */
export interface TestKeyPair {
  alg: string
  kid: string
  privateKey: CryptoKey
  publicPem: string
  publicJwk: JWK
}

export async function keyPair(alg: 'RS256' | 'ES256' | 'EdDSA' | 'PS256', kid: string): Promise<TestKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicPem: await exportSPKI(publicKey), publicJwk }
}

const now = () => Math.floor(Date.now() / 1000)

/** Claims of a token that should pass: our issuer and audience, valid for ten minutes. */
export const goodClaims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: 'user-1',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now(),
  exp: now() + 600,
  ...extra,
})

/** Signs `payload` as a compact JWT; `kid` goes in the header when given. */
export async function sign(
  payload: JWTPayload,
  key: CryptoKey | Uint8Array,
  alg: string,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key)
}

export const secretBytes = (secret: string = SECRET) => new TextEncoder().encode(secret)

export const seconds = { now, ago: (s: number) => now() - s, ahead: (s: number) => now() + s }

/** A JWKS endpoint on 127.0.0.1:0 whose key set the test changes at will; it counts fetches. */
export class JwksServer {
  keys: JWK[] = []
  fetches = 0
  /** Answer 500 instead of the key set. */
  failing = false
  readonly #server: Server = createServer((req, res) => {
    this.fetches++
    if (this.failing || req.url !== '/.well-known/jwks.json') {
      res.writeHead(this.failing ? 500 : 404).end()
      return
    }
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json' })
      .end(JSON.stringify({ keys: this.keys }))
  })

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    const { port } = this.#server.address() as AddressInfo
    return `http://127.0.0.1:${port}/.well-known/jwks.json`
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
