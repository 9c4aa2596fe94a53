import { connect } from 'node:net'
import type { App } from 'keel'
import { Type } from 'keel/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

// Tens of thousands of malformed requests on 127.0.0.1, bounded in count and time: the server
// must not crash, never answer 5xx, and answer every error as problem+json.

const TOTAL = 20_000
const CONCURRENCY = 48

/** Deterministic pseudo-random numbers, so a failure can be replayed (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let app: App
let base: string

beforeAll(async () => {
  const made = testApp({ overrides: { server: { requestTimeoutMs: 1500 }, http: { bodyLimitBytes: 8192 } } })
  app = made.app
  app.post(
    '/users',
    {
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        email: Type.String({ format: 'email' }),
        age: Type.Integer({ minimum: 0, maximum: 150 }),
        tags: Type.Optional(Type.Array(Type.String(), { maxItems: 10 })),
      }),
      response: { 201: Type.Object({ id: Type.Integer() }) },
    },
    (ctx) => {
      ctx.status = 201
      return { id: ctx.body.age }
    },
  )
  app.get(
    '/users/:id',
    {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      query: Type.Object({ limit: Type.Optional(Type.Integer({ maximum: 100 })) }),
    },
    (ctx) => ({
      id: ctx.params.id,
    }),
  )
  base = (await app.start()).url
})

afterAll(async () => {
  await app?.stop()
})

const valid = { name: 'Ada', email: 'ada@example.com', age: 36, tags: ['a'] }

function malformedRequest(next: () => number): {
  method: string
  path: string
  headers: Record<string, string>
  body?: Buffer | string
} {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!
  const json = { 'content-type': 'application/json' }
  const text = JSON.stringify(valid)
  switch (Math.floor(next() * 9)) {
    case 0: // truncated or corrupted JSON
      return {
        method: 'POST',
        path: '/users',
        headers: json,
        body: text.slice(0, Math.floor(next() * text.length)) + pick(['', '}', ',', '"', '\\', 'nul']),
      }
    case 1: // wrong types and unknown fields
      return {
        method: 'POST',
        path: '/users',
        headers: json,
        body: JSON.stringify({
          ...valid,
          [pick(['name', 'email', 'age', 'tags', 'role', '__proto__', 'constructor'])]: pick([
            null,
            1e308,
            -1,
            '',
            [],
            {},
            true,
            'x'.repeat(200),
            [1, 2],
          ]),
        }),
      }
    case 2: // invalid UTF-8
      return {
        method: 'POST',
        path: '/users',
        headers: json,
        body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]),
      }
    case 3: // path traversal and odd paths
      return {
        method: pick(['GET', 'DELETE', 'PUT']),
        path: pick([
          '/../../etc/passwd',
          '/%2e%2e/%2e%2e/etc/passwd',
          '/users/..%2f..%2fetc',
          '/users/%00',
          '/users/-1',
          '/users/99999999999999999999999',
          '/users/1?limit=abc',
          '/users/1?limit=1&limit=2',
          '/%ff',
          '//users//1',
          '/users/1/../../',
        ]),
        headers: {},
      }
    case 4: // oversized body
      return {
        method: 'POST',
        path: '/users',
        headers: json,
        body: JSON.stringify({ ...valid, name: 'x'.repeat(9000 + Math.floor(next() * 5000)) }),
      }
    case 5: // wrong content types
      return {
        method: 'POST',
        path: '/users',
        headers: {
          'content-type': pick([
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/jsonx',
            '',
          ]),
        },
        body: text,
      }
    case 6: // deeply nested JSON
      return { method: 'POST', path: '/users', headers: json, body: `${'['.repeat(2000)}${']'.repeat(2000)}` }
    case 7: // unknown routes and methods
      return {
        method: pick(['GET', 'POST', 'PATCH', 'OPTIONS']),
        path: `/${Math.floor(next() * 1e6).toString(36)}`,
        headers: {},
      }
    default: // valid requests mixed in: the server must keep serving them
      return { method: 'POST', path: '/users', headers: json, body: text }
  }
}

const RAW_TOTAL = 3_000

/**
 * One broken HTTP/1.1 message as bytes, of a kind fetch() cannot send: oversized or non-UTF-8
 * headers, raw bytes in the path, framing that lies (Content-Length, chunked), truncated bodies.
 */
function brokenMessage(next: () => number): { kind: string; payload: Buffer } {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!
  const body = JSON.stringify(valid)
  const post = (headers: string, rest: string | Buffer = body) =>
    Buffer.concat([
      Buffer.from(
        `POST /users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n${headers}\r\n`,
        'latin1',
      ),
      Buffer.isBuffer(rest) ? rest : Buffer.from(rest, 'latin1'),
    ])
  switch (Math.floor(next() * 9)) {
    case 0: {
      const size = 8_000 + Math.floor(next() * 32_000)
      return {
        kind: 'huge header',
        payload: Buffer.from(
          `GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ${'a'.repeat(size)}\r\n\r\n`,
        ),
      }
    }
    case 1:
      return {
        kind: 'non-UTF-8 header value',
        payload: Buffer.concat([
          Buffer.from('GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Name: '),
          Buffer.from(
            pick([
              [0xff, 0xfe],
              [0xc3, 0x28],
              [0xe2, 0x82],
              [0x80, 0x7f, 0x01],
            ]),
          ),
          Buffer.from('\r\n\r\n'),
        ]),
      }
    case 2:
      return {
        kind: 'raw bytes in the path',
        payload: Buffer.concat([
          Buffer.from('GET /users/'),
          Buffer.from(pick([[0xff], [0xc3, 0x28], [0x00], [0x7f], [0x20, 0x41]])),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        ]),
      }
    case 3:
      return {
        kind: 'body shorter than Content-Length',
        payload: post(
          `Content-Length: ${body.length + 1 + Math.floor(next() * 100)}\r\n`,
          body.slice(0, Math.floor(next() * body.length)),
        ),
      }
    case 4:
      return {
        kind: 'truncated chunked body',
        payload: post(
          'Transfer-Encoding: chunked\r\n',
          pick(['5\r\n{"nam', 'zz\r\n', `${body.length.toString(16)}\r\n${body}`, '0\r\n']),
        ),
      }
    case 5:
      return {
        kind: 'Content-Length and chunked together',
        payload: post(
          `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`,
          `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        ),
      }
    case 6:
      return {
        kind: 'bad Content-Length',
        payload: post(
          `Content-Length: ${pick(['abc', '-1', '1e3', `${body.length}, ${body.length + 1}`, '99999999999999999999'])}\r\n`,
        ),
      }
    case 7:
      return {
        kind: 'header without a colon',
        payload: post(`X-Broken header line\r\nContent-Length: ${body.length}\r\n`),
      }
    default:
      return { kind: 'valid', payload: post(`Content-Length: ${body.length}\r\n`) }
  }
}

/**
 * Writes `payload` on a new connection and collects what the server answers until it closes the
 * connection or `waitMs` pass (a truncated message may get no answer at all). `halfClose` ends
 * the client's side after the payload; without it the client stays, as a slow one would.
 */
function exchange(
  port: number,
  payload: Buffer | string,
  { waitMs = 3000, halfClose = true }: { waitMs?: number; halfClose?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.on('error', () => socket.destroy())
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload
    if (halfClose) socket.end(bytes)
    else socket.write(bytes)
    setTimeout(() => socket.destroy(), waitMs).unref()
  })
}

describe('malformed requests', () => {
  it(`answers ${TOTAL} malformed requests without a crash, a 5xx, or an error that is not problem+json`, {
    timeout: 120_000,
  }, async () => {
    const next = random(20261121)
    const statuses = new Map<number, number>()
    const failures: string[] = []
    let sent = 0
    const worker = async () => {
      while (sent < TOTAL) {
        sent++
        const request = malformedRequest(next)
        const response = await fetch(base + request.path, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        })
        const body = await response.text()
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        if (response.status >= 500)
          failures.push(`${request.method} ${request.path} -> ${response.status} ${body.slice(0, 200)}`)
        if (response.status >= 400 && response.headers.get('content-type') !== 'application/problem+json') {
          failures.push(
            `${request.method} ${request.path} -> ${response.status} with ${response.headers.get('content-type')}`,
          )
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    expect(failures.slice(0, 10)).toEqual([])
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL)
    // Every kind of answer showed up, so the generator really exercised each path.
    for (const status of [201, 400, 404, 413, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0)
    expect((await fetch(`${base}/live`)).status).toBe(200)
  })

  it(`answers ${RAW_TOTAL} broken HTTP messages on raw sockets without a 5xx or an error that is not problem+json`, {
    timeout: 120_000,
  }, async () => {
    const { port } = new URL(base)
    const next = random(20261122)
    const statuses = new Map<string, number>()
    const failures: string[] = []
    let sent = 0
    const worker = async () => {
      while (sent < RAW_TOTAL) {
        sent++
        const { kind, payload } = brokenMessage(next)
        const answer = await exchange(Number(port), payload)
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 'none'
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase()
        if (status.startsWith('5')) failures.push(`${kind} -> ${answer.slice(0, 300)}`)
        if (status.startsWith('4') && !head.includes('content-type: application/problem+json')) {
          failures.push(`${kind} -> ${status} without problem+json: ${head.slice(0, 300)}`)
        }
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
    expect(failures.slice(0, 10)).toEqual([])
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(RAW_TOTAL)
    for (const status of ['201', '400', '431']) expect(statuses.get(status) ?? 0, status).toBeGreaterThan(0)
    expect((await fetch(`${base}/users/7`)).status).toBe(200)
  })

  it('answers broken HTTP with problem details: bad request lines, huge headers, slow and truncated clients', async () => {
    const { port } = new URL(base)
    const raw = (payload: string, waitMs = 3000) =>
      exchange(Number(port), payload, { halfClose: false, waitMs })
    const badLine = await raw('GET /users/1 HTTP/9.9 extra\r\n\r\n')
    expect(badLine).toMatch(/^HTTP\/1\.1 400 /)
    expect(badLine).toContain('application/problem+json')
    const hugeHeaders = await raw(`GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(hugeHeaders).toMatch(/^HTTP\/1\.1 431 /)
    expect(hugeHeaders).toContain('"code":"KEEL_HEADERS_TOO_LARGE"')
    const garbage = await raw('\x00\x01\x02 not http at all\r\n\r\n')
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /)
    // Headers that never finish: the request timeout answers 408 (bounded: 1.5 s in this app).
    const slow = await raw('GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Slow: ', 4000)
    expect(slow).toMatch(/^HTTP\/1\.1 408 /)
    // A body shorter than its Content-Length, then the client hangs up: nothing to answer, no crash.
    await raw(
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"name":`,
      200,
    )
    expect((await fetch(`${base}/users/7`)).status).toBe(200)
  })
})
