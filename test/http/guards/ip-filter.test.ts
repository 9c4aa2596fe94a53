import { isKeelError } from 'keel/errors'
import { ipFilter } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { parsePrometheusText } from '../../support/prometheus-text.ts'
import { testApp } from '../../support/test-app.ts'
import { seriesOf } from '../scrape.ts'

type App = ReturnType<typeof testApp>['app']

function filteredApp(options: Parameters<typeof ipFilter>[0], trustProxy: string[] = []) {
  const { app } = testApp({ overrides: { http: { trustProxy } } })
  app.guard(ipFilter(options))
  app.get('/hello', () => ({ hello: 'world' }))
  return app
}

const statusFrom = async (app: App, remoteAddress: string, headers: Record<string, string> = {}) =>
  (await app.inject({ method: 'GET', url: '/hello', remoteAddress, headers })).statusCode

describe('ipFilter', () => {
  it('lets only allowed IPv4 and IPv6 ranges through', async () => {
    const app = filteredApp({ allow: ['10.0.0.0/8', '2001:db8::/32'] })
    expect(await statusFrom(app, '10.1.2.3')).toBe(200)
    expect(await statusFrom(app, '::ffff:10.1.2.3')).toBe(200)
    expect(await statusFrom(app, '2001:db8:1::5')).toBe(200)
    expect(await statusFrom(app, '11.1.2.3')).toBe(403)
    expect(await statusFrom(app, '2001:db9::5')).toBe(403)
  })

  it('refuses denied ranges and lets everything else through when there is no allow list', async () => {
    const app = filteredApp({ deny: ['203.0.113.0/24', 'fd00::/8'] })
    expect(await statusFrom(app, '203.0.113.9')).toBe(403)
    expect(await statusFrom(app, 'fd12::1')).toBe(403)
    expect(await statusFrom(app, '198.51.100.1')).toBe(200)
    expect(await statusFrom(app, '2001:db8::1')).toBe(200)
  })

  it('lets deny win over allow', async () => {
    const app = filteredApp({ allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] })
    expect(await statusFrom(app, '10.1.1.1')).toBe(200)
    expect(await statusFrom(app, '10.6.6.6')).toBe(403)
  })

  it('lets no one through an empty allow list', async () => {
    const app = filteredApp({ allow: [] })
    expect(await statusFrom(app, '127.0.0.1')).toBe(403)
  })

  it('answers a 403 problem that names neither the address nor the lists', async () => {
    const app = filteredApp({ allow: ['10.0.0.0/8'] })
    const res = await app.inject({ method: 'GET', url: '/hello', remoteAddress: '198.51.100.23' })
    expect(res.statusCode).toBe(403)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toMatchObject({
      type: 'urn:keel:problem:ip-denied',
      code: 'KEEL_IP_DENIED',
      status: 403,
      detail: 'requests from this address are not allowed',
    })
    expect(res.body).not.toContain('198.51.100.23')
    expect(res.body).not.toContain('10.0.0.0')
  })

  it('filters unmatched paths too when app-wide', async () => {
    const app = filteredApp({ deny: ['203.0.113.0/24'] })
    const res = await app.inject({ method: 'GET', url: '/nope', remoteAddress: '203.0.113.5' })
    expect(res.statusCode).toBe(403)
  })

  it('never filters the probes', async () => {
    const app = filteredApp({ allow: [] })
    const res = await app.inject({ method: 'GET', url: '/live', remoteAddress: '203.0.113.5' })
    expect(res.statusCode).toBe(200)
  })

  it('filters the client behind a trusted proxy, not the proxy', async () => {
    const app = filteredApp({ deny: ['203.0.113.0/24'] }, ['10.0.0.0/8'])
    expect(await statusFrom(app, '10.0.0.2', { 'x-forwarded-for': '203.0.113.7' })).toBe(403)
    expect(await statusFrom(app, '10.0.0.2', { 'x-forwarded-for': '198.51.100.1' })).toBe(200)
    // A client cannot slip past the filter by forging the header.
    expect(await statusFrom(app, '203.0.113.7', { 'x-forwarded-for': '198.51.100.1' })).toBe(403)
  })

  it('refuses a request whose address cannot be parsed', async () => {
    const { app } = testApp()
    app.guard(ipFilter({ deny: ['203.0.113.0/24'] }))
    app.get('/hello', () => 'hi')
    // What a custom clientIp or a broken socket could yield.
    const res = await app.inject({ method: 'GET', url: '/hello', remoteAddress: 'unknown' })
    expect(res.statusCode).toBe(403)
  })

  it('rejects an invalid CIDR at construction, naming the entry', () => {
    let error: unknown
    try {
      ipFilter({ allow: ['10.0.0.0/8'], deny: ['192.168.0.0/16', '192.168.300.0/24'] })
    } catch (caught) {
      error = caught
    }
    expect(isKeelError(error) && error.code).toBe('KEEL_GUARD_OPTIONS')
    expect((error as Error).message).toBe(
      'ipFilter: options.deny[1] "192.168.300.0/24" is not an IP address or CIDR range: not an IPv4 or IPv6 address',
    )
  })

  it('rejects a filter with neither list, and lists that are not arrays', () => {
    expect(() => ipFilter({})).toThrow('ipFilter: options.allow or options.deny must be given')
    expect(() => ipFilter({ allow: '10.0.0.0/8' as never })).toThrow(
      'ipFilter: options.allow must be a list of CIDRs, got "10.0.0.0/8"',
    )
  })

  it('lists its ranges in the app description', () => {
    const app = filteredApp({ allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] })
    expect(app.describe().guards).toContainEqual({
      name: 'ipFilter',
      options: { name: 'default', allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] },
    })
  })
})

describe('ipFilter metrics', () => {
  it('counts each decision by filter name and outcome, every series from zero', async () => {
    const { app } = testApp()
    app.guard(ipFilter({ name: 'edge', deny: ['203.0.113.0/24'] }))
    app.group('/admin', { guards: [ipFilter({ name: 'admin', allow: ['10.0.0.0/8'] })] }, (admin) =>
      admin.get('/stats', () => ({ ok: true })),
    )
    const get = (url: string, remoteAddress: string) => app.inject({ method: 'GET', url, remoteAddress })
    expect((await get('/admin/stats', '10.1.1.1')).statusCode).toBe(200)
    expect((await get('/admin/stats', '198.51.100.1')).statusCode).toBe(403)
    expect((await get('/admin/stats', '203.0.113.5')).statusCode).toBe(403)
    expect((await get('/admin/stats', 'not-an-address')).statusCode).toBe(403)
    expect(
      seriesOf(parsePrometheusText(await app.metrics.render()), 'keel_ip_filter_requests_total'),
    ).toEqual({
      'filter=admin,outcome=allowed': 1,
      'filter=admin,outcome=denied': 1,
      'filter=admin,outcome=unparsable': 0,
      'filter=edge,outcome=allowed': 2,
      'filter=edge,outcome=denied': 1,
      'filter=edge,outcome=unparsable': 1,
    })
  })

  it('refuses an empty name, naming the option', () => {
    expect(() => ipFilter({ name: '', deny: ['10.0.0.0/8'] })).toThrow(/ipFilter: options\.name/)
  })
})
