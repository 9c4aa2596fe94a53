import { connect } from 'node:net'
import { isKeelError } from 'keel/errors'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

type App = ReturnType<typeof testApp>['app']
const started: App[] = []

afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.stop()))
})

/** An app answering `{ ip }` on GET /ip, trusting `trustProxy`. */
function ipApp(trustProxy?: string[]) {
  const { app } = testApp({ overrides: trustProxy ? { http: { trustProxy } } : {} })
  app.get('/ip', (ctx) => ({ ip: ctx.ip }))
  return app
}

const ipOf = async (app: App, remoteAddress: string, forwardedFor?: string) => {
  const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
  const res = await app.inject({ method: 'GET', url: '/ip', remoteAddress, headers })
  expect(res.statusCode).toBe(200)
  return (res.json() as { ip: string }).ip
}

describe('client IP without trusted proxies (the default)', () => {
  it('is the socket peer, and a spoofed X-Forwarded-For is ignored', async () => {
    const app = ipApp()
    expect(await ipOf(app, '203.0.113.7')).toBe('203.0.113.7')
    expect(await ipOf(app, '203.0.113.7', '1.1.1.1')).toBe('203.0.113.7')
  })

  it('reports an IPv4-mapped IPv6 peer in its dotted IPv4 form', async () => {
    const app = ipApp()
    expect(await ipOf(app, '::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(await ipOf(app, '2001:db8::7')).toBe('2001:db8::7')
  })
})

describe('client IP behind trusted proxies', () => {
  it('takes the first untrusted address from the right of X-Forwarded-For', async () => {
    const app = ipApp(['10.0.0.0/8'])
    // The client wrote 6.6.6.6 itself; the first proxy saw 203.0.113.7; the second saw the first (10.0.0.9).
    expect(await ipOf(app, '10.0.0.2', '6.6.6.6, 203.0.113.7, 10.0.0.9')).toBe('203.0.113.7')
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const app = ipApp(['10.0.0.0/8'])
    expect(await ipOf(app, '198.51.100.4', '10.0.0.1')).toBe('198.51.100.4')
    expect(await ipOf(app, '198.51.100.4', '203.0.113.7, 10.0.0.9')).toBe('198.51.100.4')
  })

  it('is the peer when a trusted proxy sends no X-Forwarded-For', async () => {
    const app = ipApp(['10.0.0.0/8'])
    expect(await ipOf(app, '10.0.0.2')).toBe('10.0.0.2')
    expect(await ipOf(app, '10.0.0.2', '')).toBe('10.0.0.2')
  })

  it('is the leftmost hop when every hop is trusted', async () => {
    const app = ipApp(['10.0.0.0/8'])
    expect(await ipOf(app, '10.0.0.2', '10.0.0.5,10.0.0.9')).toBe('10.0.0.5')
  })

  it('stops at a malformed entry and takes the nearest verified hop, never what lies left of it', async () => {
    const app = ipApp(['10.0.0.0/8'])
    expect(await ipOf(app, '10.0.0.2', '203.0.113.7, unknown, 10.0.0.9')).toBe('10.0.0.9')
    expect(await ipOf(app, '10.0.0.2', '203.0.113.7,,10.0.0.9')).toBe('10.0.0.9')
    expect(await ipOf(app, '10.0.0.2', '203.0.113.7, 999.1.1.1')).toBe('10.0.0.2')
    expect(await ipOf(app, '10.0.0.2', '203.0.113.7, ')).toBe('10.0.0.2')
    expect(await ipOf(app, '10.0.0.2', 'x'.repeat(5000))).toBe('10.0.0.2')
  })

  it('accepts entries with ports, bracketed IPv6 and odd spacing', async () => {
    const app = ipApp(['10.0.0.0/8', 'fd00::/8'])
    expect(await ipOf(app, '10.0.0.2', '203.0.113.7:51234')).toBe('203.0.113.7')
    expect(await ipOf(app, '10.0.0.2', '  [2001:DB8::7]:443 ,\t10.0.0.3')).toBe('2001:db8::7')
    expect(await ipOf(app, '10.0.0.2', '[2001:db8::7]')).toBe('2001:db8::7')
    expect(await ipOf(app, '10.0.0.2', '[2001:db8::7')).toBe('10.0.0.2')
    expect(await ipOf(app, '10.0.0.2', '203.0.113.7:http')).toBe('10.0.0.2')
  })

  it('trusts IPv6 proxies and IPv4 proxies seen through a dual-stack socket', async () => {
    const app = ipApp(['10.0.0.0/8', 'fd00::/8'])
    expect(await ipOf(app, 'fd00::1', '2001:db8::7, fd00::2')).toBe('2001:db8::7')
    expect(await ipOf(app, '::ffff:10.0.0.2', '::ffff:203.0.113.7')).toBe('203.0.113.7')
  })

  it('reads every X-Forwarded-For line of a real request, in order', async () => {
    const app = ipApp(['127.0.0.1'])
    const { port } = await app.start()
    started.push(app)
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end(
          'GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
            'X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n',
        )
      })
      let data = ''
      socket.on('data', (chunk) => {
        data += chunk
      })
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    expect(raw).toMatch(/^HTTP\/1\.1 200/)
    expect(raw).toContain('{"ip":"203.0.113.7"}')
  })
})

describe('http.trustProxy config', () => {
  it('takes a comma list from the environment', async () => {
    const { app } = testApp({ env: { KEEL_HTTP__TRUST_PROXY: '10.0.0.0/8, fd00::/8' } })
    app.get('/ip', (ctx) => ({ ip: ctx.ip }))
    expect(app.config.values.http.trustProxy).toEqual(['10.0.0.0/8', 'fd00::/8'])
    expect(await ipOf(app, 'fd00::9', '203.0.113.7')).toBe('203.0.113.7')
  })

  it('fails app creation naming each invalid entry and where it was set', () => {
    let error: unknown
    try {
      testApp({ env: { KEEL_HTTP__TRUST_PROXY: '10.0.0.0/8,10.0.0.0/33,proxy.local' } })
    } catch (caught) {
      error = caught
    }
    expect(isKeelError(error) && error.code).toBe('KEEL_CONFIG_INVALID')
    const message = (error as Error).message
    expect(message).toContain(
      'http.trustProxy: [1] "10.0.0.0/33" is not an IP address or CIDR range: prefix /33 is longer than the 32 bits of an IPv4 address (from env KEEL_HTTP__TRUST_PROXY)',
    )
    expect(message).toContain('[2] "proxy.local" is not an IP address or CIDR range')
  })
})
