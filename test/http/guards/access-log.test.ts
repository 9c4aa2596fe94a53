import { type AccessLogEntry, type AccessLogOptions, accessLog, timeout } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

function loggedApp(options?: AccessLogOptions) {
  const { app, logs } = testApp()
  if (options) app.guard(accessLog(options))
  app.get('/search', () => 'results')
  app.get('/reset/:token', () => 'ok')
  app.get('/favicon.ico', () => Buffer.from('icon'))
  const access = () => logs.records.filter((r) => r.msg === 'request completed')
  return { app, logs, access }
}

describe('accessLog()', () => {
  it('without the guard, the kernel writes one line per request with secret query values redacted', async () => {
    const { app, access } = loggedApp()
    await app.inject('/search?q=shoes&token=abc')
    expect(access()).toHaveLength(1)
    expect(access()[0]).toMatchObject({
      method: 'GET',
      url: '/search?q=shoes&token=[REDACTED]',
      route: '/search',
      status: 200,
    })
  })

  it('redacts configured query parameters and route parameters', async () => {
    const { app, access, logs } = loggedApp({ redactQuery: ['Email'], redactParams: ['token'] })
    await app.inject('/search?q=shoes&email=ada%40example.com&password=x')
    await app.inject('/reset/s3cr3t-value?next=%2Fhome')
    expect(access().map((r) => r.url)).toEqual([
      '/search?q=shoes&email=[REDACTED]&password=[REDACTED]',
      '/reset/[REDACTED]?next=%2Fhome',
    ])
    expect(logs.text).not.toContain('s3cr3t-value')
    expect(logs.text).not.toContain('ada%40example.com')
  })

  it('skips listed paths, or those a predicate picks', async () => {
    const listed = loggedApp({ skip: ['/favicon.ico'] })
    await listed.app.inject('/favicon.ico')
    await listed.app.inject('/search')
    expect(listed.access().map((r) => r.url)).toEqual(['/search'])
    const predicate = loggedApp({ skip: (path) => path.startsWith('/reset') })
    await predicate.app.inject('/reset/abc')
    await predicate.app.inject('/search')
    expect(predicate.access().map((r) => r.url)).toEqual(['/search'])
  })

  it('turns the kernel line off', async () => {
    const { app, access } = loggedApp({ enabled: false })
    expect((await app.inject('/search')).statusCode).toBe(200)
    expect(access()).toEqual([])
  })

  it('replaces the kernel line with a writer that sees the final status, timeouts included', async () => {
    const entries: Array<AccessLogEntry & { ip: string }> = []
    const { app, access } = loggedApp({
      redactParams: ['token'],
      write: (entry, ctx) => entries.push({ ...entry, ip: ctx.ip }),
    })
    app.guard(timeout({ ms: 20 }))
    app.get('/slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 200)))
    await app.inject({ url: '/reset/abc', headers: { 'x-request-id': 'r-1' } })
    await app.inject('/slow')
    expect(access()).toEqual([])
    expect(entries).toHaveLength(2)
    expect(entries[0]).toMatchObject({
      method: 'GET',
      url: '/reset/[REDACTED]',
      route: '/reset/:token',
      status: 200,
      requestId: 'r-1',
      ip: '127.0.0.1',
    })
    expect(typeof entries[0]!.durationMs).toBe('number')
    expect(entries[1]).toMatchObject({ url: '/slow', status: 504 })
  })

  it('survives a writer that throws: the response is sent and the failure logged', async () => {
    const { app, logs } = loggedApp({
      write: () => {
        throw new Error('disk full')
      },
    })
    const res = await app.inject('/search')
    expect(res.statusCode).toBe(200)
    expect(logs.records.find((r) => r.msg === 'access log writer failed')).toBeDefined()
  })

  it('describes itself and fails loudly when used on a route', async () => {
    const { app } = loggedApp({ skip: ['/favicon.ico'] })
    expect(app.describe().guards[0]).toEqual({
      name: 'accessLog',
      options: { enabled: true, skip: ['/favicon.ico'], redactQuery: [], redactParams: [], write: 'kernel' },
    })
    const other = testApp().app
    other.group('/api', { guards: [accessLog()] }, (api) => {
      api.get('/x', () => 'x')
    })
    expect((await other.inject('/api/x')).statusCode).toBe(500)
  })

  it('rejects bad options', () => {
    const bad = (options: unknown) => () => accessLog(options as AccessLogOptions)
    expect(bad({ skip: 'favicon.ico' })).toThrow(
      /accessLog: options\.skip must be a list of paths or a predicate/,
    )
    expect(bad({ skip: ['favicon.ico'] })).toThrow(/options\.skip\[0\] must be a path starting with "\/"/)
    expect(bad({ redactQuery: 'email' })).toThrow(/options\.redactQuery must be a list of parameter names/)
    expect(bad({ redactParams: [''] })).toThrow(/options\.redactParams must be a list/)
    expect(bad({ write: 'stdout' })).toThrow(/options\.write must be a function/)
    expect(bad({ enabled: 'no' })).toThrow(/options\.enabled must be true or false/)
  })
})
