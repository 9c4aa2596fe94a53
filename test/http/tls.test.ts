import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import { isKeelError } from 'keel/errors'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { httpRequest } from '../support/raw-http.ts'
import { testApp } from '../support/test-app.ts'

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl, plus broken variants. */
let dir: string
let cert: Buffer
const file = (name: string) => join(dir, name)

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-tls-'))
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'key.pem',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  )
  openssl('pkey', '-in', 'key.pem', '-aes256', '-passout', 'pass:s3cret', '-out', 'key-encrypted.pem')
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other-key.pem')
  writeFileSync(
    file('garbage.pem'),
    '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
  )
  cert = readFileSync(file('cert.pem'))
})

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

function tlsApp(tls: Record<string, string>, server: Record<string, unknown> = {}) {
  const { app, logs } = testApp({ overrides: { server: { tls, ...server } } })
  app.get('/hello', (ctx) => ({ hello: 'tls', path: ctx.path }))
  return { app, logs }
}

/** GET over HTTPS trusting only the test certificate. */
function httpsGet(url: string): Promise<{ status: number; body: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: cert, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          authorized: (res.socket as import('node:tls').TLSSocket).authorized,
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

async function startFailure(app: App): Promise<unknown> {
  try {
    await app.start()
  } catch (error) {
    return error
  }
  running = app
  throw new Error('start() succeeded')
}

describe('HTTPS', () => {
  it('serves HTTPS from the configured certificate and key', async () => {
    const { app } = tlsApp({ certFile: file('cert.pem'), keyFile: file('key.pem') })
    const address = await app.start()
    running = app
    expect(address.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const res = await httpsGet(`${address.url}/hello`)
    expect(res).toEqual({ status: 200, body: '{"hello":"tls","path":"/hello"}', authorized: true })
  })

  it('decrypts an encrypted key with the passphrase', async () => {
    const { app } = tlsApp({
      certFile: file('cert.pem'),
      keyFile: file('key-encrypted.pem'),
      passphrase: 's3cret',
    })
    const address = await app.start()
    running = app
    expect((await httpsGet(`${address.url}/hello`)).status).toBe(200)
  })

  it('carries WebSockets (wss) on the same server', async () => {
    const { app } = tlsApp({ certFile: file('cert.pem'), keyFile: file('key.pem') })
    app.ws('/echo', (conn) => {
      conn.socket.on('message', (data) => void conn.send(String(data)))
    })
    const address = await app.start()
    running = app
    const ws = new WebSocket(`${address.url.replace('https', 'wss')}/echo`, { ca: cert })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const reply = new Promise((resolve) => ws.once('message', (data) => resolve(String(data))))
    ws.send('over tls')
    expect(await reply).toBe('over tls')
    ws.close()
  })

  it('redirects plain HTTP to HTTPS with 308, keeping path and query', async () => {
    const { app } = tlsApp({ certFile: file('cert.pem'), keyFile: file('key.pem') }, { redirectHttpPort: 0 })
    const address = await app.start()
    running = app
    expect(address.redirectUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await httpRequest(`${address.redirectUrl}/hello?x=1`, { method: 'POST' })
    expect(res.status).toBe(308)
    expect(res.headers.location).toBe(`https://127.0.0.1:${address.port}/hello?x=1`)

    const named = await httpRequest(`${address.redirectUrl}/a`, { headers: { host: 'shop.example.com:80' } })
    expect(named.headers.location).toBe(`https://shop.example.com:${address.port}/a`)
    // A Host that is not a host name cannot bend the target.
    const hostile = await httpRequest(`${address.redirectUrl}/a`, { headers: { host: 'evil.com/@x' } })
    expect(hostile.headers.location).toBe(`https://127.0.0.1:${address.port}/a`)

    await app.stop()
    running = undefined
    await expect(httpRequest(`${address.redirectUrl}/hello`)).rejects.toThrow()
  })
})

describe('TLS start-up errors', () => {
  const expectTlsError = async (tls: Record<string, string>, ...fragments: string[]) => {
    const { app } = tlsApp(tls)
    const error = await startFailure(app)
    expect(isKeelError(error) && error.code).toBe('KEEL_TLS_INVALID')
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment)
    expect(app.state).toBe('stopped')
  }

  it('names a missing certificate file', async () => {
    await expectTlsError(
      { certFile: file('missing.pem'), keyFile: file('key.pem') },
      'server.tls.certFile',
      file('missing.pem'),
      'ENOENT',
    )
  })

  it('names a missing key file', async () => {
    await expectTlsError(
      { certFile: file('cert.pem'), keyFile: file('nope.key') },
      'server.tls.keyFile',
      'nope.key',
    )
  })

  it('names a certificate file that holds no certificate', async () => {
    await expectTlsError(
      { certFile: file('garbage.pem'), keyFile: file('key.pem') },
      'server.tls.certFile',
      'garbage.pem is not a PEM certificate',
    )
  })

  it('names a key file that holds no key', async () => {
    await expectTlsError(
      { certFile: file('cert.pem'), keyFile: file('cert.pem') },
      'server.tls.keyFile',
      'is not a PEM private key',
    )
  })

  it('names a key that does not belong to the certificate', async () => {
    await expectTlsError(
      { certFile: file('cert.pem'), keyFile: file('other-key.pem') },
      'server.tls.keyFile',
      'does not match the certificate',
    )
  })

  it('names an encrypted key with a wrong or missing passphrase, never printing it', async () => {
    const { app } = tlsApp({
      certFile: file('cert.pem'),
      keyFile: file('key-encrypted.pem'),
      passphrase: 'wrong-pass',
    })
    const error = await startFailure(app)
    expect((error as Error).message).toContain('server.tls.keyFile')
    expect((error as Error).message).not.toContain('wrong-pass')
    await expectTlsError(
      { certFile: file('cert.pem'), keyFile: file('key-encrypted.pem') },
      'no passphrase is set',
    )
  })

  it('rejects half a TLS configuration and a redirect without TLS at load time', () => {
    const load = (server: Record<string, unknown>) => {
      try {
        testApp({ overrides: { server } })
      } catch (error) {
        return (error as Error).message
      }
      return ''
    }
    expect(load({ tls: { certFile: file('cert.pem') } })).toContain('server.tls.keyFile')
    expect(load({ redirectHttpPort: 8080 })).toContain('server.redirectHttpPort')
  })

  it('describes the app without reading the certificate files', () => {
    const { app } = tlsApp({ certFile: file('absent.pem'), keyFile: file('absent.key') })
    expect(app.describe().routes.some((r) => r.path === '/hello')).toBe(true)
  })
})
