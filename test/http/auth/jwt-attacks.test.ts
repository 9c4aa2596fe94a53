import { base64url, UnsecuredJWT } from 'jose'
import type { App } from 'keel/app'
import { type Guard, jwtAuth } from 'keel/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogCapture } from '../../support/log-capture.ts'
import { testApp } from '../../support/test-app.ts'
import {
  AUDIENCE,
  goodClaims,
  ISSUER,
  JwksServer,
  keyPair,
  seconds,
  sign,
  type TestKeyPair,
} from './token-fixtures.ts'

/**
 * The JWT attack suite: every forged, stale, misdirected or malformed credential must be refused
 * with 401, problem+json and a WWW-Authenticate challenge, against a guard with a PEM public
 * key (through app.inject) and one with a JWKS URL (through a listening server and fetch).
 */

type Challenge = 'bare' | 'invalid_token'
interface Attack {
  name: string
  challenge: Challenge
  /** The request: headers and an optional query string. */
  build: () => Promise<{ headers: Record<string, string>; query?: string; token?: string }>
}

let real: TestKeyPair
let attacker: TestKeyPair
const jwks = new JwksServer()
let jwksUrl: string

beforeAll(async () => {
  ;[real, attacker] = await Promise.all([keyPair('RS256', 'real-key'), keyPair('RS256', 'real-key')])
  jwks.keys = [real.publicJwk]
  jwksUrl = await jwks.start()
})
afterAll(() => jwks.stop())

const enc = (value: unknown) => base64url.encode(JSON.stringify(value))
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, token })
const valid = () => sign(goodClaims(), real.privateKey, 'RS256', { kid: real.kid })
const signedByReal = (claims: Record<string, unknown>) =>
  sign(goodClaims(claims), real.privateKey, 'RS256', { kid: real.kid })

const attacks: Attack[] = [
  {
    name: 'alg none: an unsigned token',
    challenge: 'invalid_token',
    build: async () => bearer(new UnsecuredJWT(goodClaims({ roles: ['admin'] })).encode()),
  },
  {
    name: 'alg None / NONE spelled otherwise, signature dropped',
    challenge: 'invalid_token',
    build: async () => bearer(`${enc({ alg: 'NONE', typ: 'JWT' })}.${enc(goodClaims())}.`),
  },
  {
    name: 'alg none on a real token, signature kept',
    challenge: 'invalid_token',
    build: async () => {
      const [, payload, signature] = (await valid()).split('.')
      return bearer(`${enc({ alg: 'none', kid: real.kid })}.${payload}.${signature}`)
    },
  },
  {
    name: 'key confusion: HS256 signed with the RSA public key PEM as secret',
    challenge: 'invalid_token',
    build: async () =>
      bearer(await sign(goodClaims(), new TextEncoder().encode(real.publicPem), 'HS256', { kid: real.kid })),
  },
  {
    name: 'key confusion: HS256 signed with the public JWK text as secret',
    challenge: 'invalid_token',
    build: async () =>
      bearer(
        await sign(goodClaims(), new TextEncoder().encode(JSON.stringify(real.publicJwk)), 'HS256', {
          kid: real.kid,
        }),
      ),
  },
  {
    name: 'expired (an hour ago, far beyond the clock skew)',
    challenge: 'invalid_token',
    build: async () => bearer(await signedByReal({ exp: seconds.ago(3600) })),
  },
  {
    name: 'not yet valid (nbf an hour ahead)',
    challenge: 'invalid_token',
    build: async () => bearer(await signedByReal({ nbf: seconds.ahead(3600) })),
  },
  {
    name: 'wrong issuer',
    challenge: 'invalid_token',
    build: async () => bearer(await signedByReal({ iss: 'https://evil.example/' })),
  },
  {
    name: 'wrong audience',
    challenge: 'invalid_token',
    build: async () => bearer(await signedByReal({ aud: 'billing-api' })),
  },
  {
    name: 'no expiry at all',
    challenge: 'invalid_token',
    build: async () => bearer(await signedByReal({ exp: undefined })),
  },
  {
    name: 'unknown kid, signed with an attacker key',
    challenge: 'invalid_token',
    build: async () =>
      bearer(await sign(goodClaims(), attacker.privateKey, 'RS256', { kid: 'attacker-key' })),
  },
  {
    name: 'the real kid, signed with an attacker key',
    challenge: 'invalid_token',
    build: async () => bearer(await sign(goodClaims(), attacker.privateKey, 'RS256', { kid: real.kid })),
  },
  {
    name: 'attacker key embedded in the header (jwk)',
    challenge: 'invalid_token',
    build: async () =>
      bearer(await sign(goodClaims(), attacker.privateKey, 'RS256', { jwk: attacker.publicJwk })),
  },
  {
    name: 'attacker key set named in the header (jku)',
    challenge: 'invalid_token',
    build: async () =>
      bearer(
        await sign(goodClaims(), attacker.privateKey, 'RS256', {
          jku: 'http://127.0.0.1:9/jwks.json',
          kid: 'attacker-key',
        }),
      ),
  },
  {
    name: 'tampered payload: roles raised, signature of the original kept',
    challenge: 'invalid_token',
    build: async () => {
      const [header, , signature] = (await valid()).split('.')
      return bearer(`${header}.${enc(goodClaims({ roles: ['admin'] }))}.${signature}`)
    },
  },
  {
    name: 'tampered header: alg switched from RS256 to PS256',
    challenge: 'invalid_token',
    build: async () => {
      const [, payload, signature] = (await valid()).split('.')
      return bearer(`${enc({ alg: 'PS256', kid: real.kid })}.${payload}.${signature}`)
    },
  },
  {
    name: 'signature stripped',
    challenge: 'invalid_token',
    build: async () => {
      const [header, payload] = (await valid()).split('.')
      return bearer(`${header}.${payload}.`)
    },
  },
  {
    name: 'signature truncated',
    challenge: 'invalid_token',
    build: async () => bearer((await valid()).slice(0, -10)),
  },
  {
    name: 'unknown critical header parameter',
    challenge: 'invalid_token',
    build: async () => {
      const [, payload] = (await valid()).split('.')
      return bearer(`${enc({ alg: 'RS256', kid: real.kid, crit: ['urn:x'], 'urn:x': 1 })}.${payload}.AAAA`)
    },
  },
  { name: 'malformed: not a JWT', challenge: 'invalid_token', build: async () => bearer('not-a-jwt') },
  { name: 'malformed: three garbage parts', challenge: 'invalid_token', build: async () => bearer('a.b.c') },
  {
    name: 'malformed: header is not JSON',
    challenge: 'invalid_token',
    build: async () => bearer(`${base64url.encode('{alg')}.${enc(goodClaims())}.sig`),
  },
  {
    name: 'malformed: five parts (a JWE shape)',
    challenge: 'invalid_token',
    build: async () => bearer(`${(await valid()).split('.').slice(0, 2).join('.')}.a.b.c`),
  },
  {
    name: 'malformed: payload is a JSON array',
    challenge: 'invalid_token',
    build: async () => bearer(`${enc({ alg: 'RS256', kid: real.kid })}.${enc([1, 2])}.sig`),
  },
  {
    name: 'empty bearer credentials',
    challenge: 'invalid_token',
    build: async () => ({ headers: { authorization: 'Bearer ' } }),
  },
  {
    name: 'a valid token in the query string (access_token) is ignored',
    challenge: 'bare',
    build: async () => {
      const token = await valid()
      return { headers: {}, query: `?access_token=${token}`, token }
    },
  },
  {
    name: 'a valid token without the Bearer prefix',
    challenge: 'bare',
    build: async () => {
      const token = await valid()
      return { headers: { authorization: token }, token }
    },
  },
  {
    name: 'a valid token under another scheme (Token)',
    challenge: 'bare',
    build: async () => {
      const token = await valid()
      return { headers: { authorization: `Token ${token}` }, token }
    },
  },
  {
    name: 'a valid token glued to the scheme (Bearer<token>)',
    challenge: 'bare',
    build: async () => {
      const token = await valid()
      return { headers: { authorization: `Bearer${token}` }, token }
    },
  },
  { name: 'no Authorization header', challenge: 'bare', build: async () => ({ headers: {} }) },
]

interface Outcome {
  status: number
  contentType: string | undefined
  challenge: string | undefined
  body: string
}

interface Target {
  name: string
  guard: () => Guard
  /** Sends one request to GET /api/me. */
  send: (app: App, headers: Record<string, string>, query: string) => Promise<Outcome>
}

const viaInject: Target['send'] = async (app, headers, query) => {
  const res = await app.inject({ method: 'GET', url: `/api/me${query}`, headers })
  return {
    status: res.statusCode,
    contentType: res.headers['content-type'] as string | undefined,
    challenge: res.headers['www-authenticate'] as string | undefined,
    body: res.body,
  }
}

const viaSocket: Target['send'] = async (app, headers, query) => {
  const res = await fetch(`${app.address!.url}/api/me${query}`, { headers })
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? undefined,
    challenge: res.headers.get('www-authenticate') ?? undefined,
    body: await res.text(),
  }
}

const targets: Target[] = [
  {
    name: 'PEM public key, through app.inject',
    guard: () => jwtAuth({ publicKey: real.publicPem, issuer: ISSUER, audience: AUDIENCE }),
    send: viaInject,
  },
  {
    name: 'JWKS URL, through a listening server',
    guard: () => jwtAuth({ jwksUrl, issuer: ISSUER, audience: AUDIENCE }),
    send: viaSocket,
  },
]

describe.each(targets)('the JWT attack suite against a guard with a $name', (target) => {
  let app: App
  let logs: LogCapture
  beforeAll(async () => {
    ;({ app, logs } = testApp())
    app.group('/api', { guards: [target.guard()] }, (api) => {
      api.get('/me', (ctx) => ({ principal: ctx.principal ?? null }))
    })
    if (target.send === viaSocket) await app.start()
  })
  afterAll(() => app.stop())

  it('accepts the genuine token (the control)', async () => {
    const outcome = await target.send(app, { authorization: `Bearer ${await valid()}` }, '')
    expect(outcome.status).toBe(200)
    expect(JSON.parse(outcome.body).principal.id).toBe('user-1')
  })

  it.each(attacks)('rejects: $name', async (attack) => {
    const request = await attack.build()
    const outcome = await target.send(app, request.headers, request.query ?? '')
    expect(outcome.status).toBe(401)
    expect(outcome.contentType).toBe('application/problem+json')
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 401, code: 'KEEL_UNAUTHORIZED' })
    if (attack.challenge === 'bare') expect(outcome.challenge).toBe('Bearer')
    else expect(outcome.challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/)
    // The token's signature (long enough to be unmistakable) appears in neither the answer nor the log.
    const signature = request.token?.split('.')[2] ?? ''
    if (signature.length >= 16) {
      expect(outcome.body).not.toContain(signature)
      expect(logs.text).not.toContain(signature)
    }
  })

  it(`rejects all ${attacks.length} attacks: 100%`, async () => {
    const table: Array<{
      attack: string
      status: number
      problem: boolean
      challenge: boolean
      detail?: string
    }> = []
    for (const attack of attacks) {
      const request = await attack.build()
      const outcome = await target.send(app, request.headers, request.query ?? '')
      table.push({
        attack: attack.name,
        status: outcome.status,
        problem: outcome.contentType === 'application/problem+json',
        challenge: outcome.challenge?.startsWith('Bearer') ?? false,
        ...(process.env.KEEL_PRINT_ATTACKS ? { detail: JSON.parse(outcome.body).detail } : {}),
      })
    }
    if (process.env.KEEL_PRINT_ATTACKS) console.table(table)
    const rejected = table.filter((row) => row.status === 401 && row.problem && row.challenge)
    expect(table.filter((row) => !rejected.includes(row))).toEqual([])
    expect(rejected.length / attacks.length).toBe(1)
  })
})
