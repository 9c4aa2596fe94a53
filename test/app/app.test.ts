import { createServer } from 'node:net'
import { Type } from '@sinclair/typebox'
import type { App, KeelModule } from 'keel/app'
import { defineConfigSection } from 'keel/config'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

async function started(app: App): Promise<string> {
  running.push(app)
  const { url } = await app.start()
  return url
}

const json = async (response: Response) => ({
  status: response.status,
  type: response.headers.get('content-type'),
  body: (await response.json()) as Record<string, unknown>,
})

describe('probes', () => {
  it('answers /live, /startup, /ready and /health once ready', async () => {
    const { app } = testApp()
    app.health.add({ name: 'db', check: () => {} })
    const url = await started(app)
    expect((await json(await fetch(`${url}/live`))).body).toEqual({ status: 'pass', state: 'ready' })
    expect((await fetch(`${url}/startup`)).status).toBe(200)
    const ready = await json(await fetch(`${url}/ready`))
    expect(ready.status).toBe(200)
    expect(ready.body.checks).toEqual([
      expect.objectContaining({ name: 'db', status: 'pass', critical: true }),
    ])
    const health = await json(await fetch(`${url}/health`))
    expect(health.body).toMatchObject({ status: 'pass', state: 'ready', service: expect.any(String) })
  })

  it('answers 503 on /ready and /startup while a module is still starting, and on routes too', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const slow: KeelModule = { name: 'slow', start: () => gate }
    const { app } = testApp({ modules: [slow] })
    app.get('/work', () => ({ done: true }))
    running.push(app)
    const starting = app.start()
    while (!app.address) await new Promise((r) => setTimeout(r, 5))
    const { url } = app.address
    const ready = await json(await fetch(`${url}/ready`))
    expect(ready).toMatchObject({ status: 503, type: 'application/problem+json' })
    expect(ready.body).toMatchObject({ code: 'KEEL_NOT_READY', state: 'starting' })
    expect((await fetch(`${url}/startup`)).status).toBe(503)
    expect((await fetch(`${url}/work`)).status).toBe(503)
    release()
    await starting
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    expect((await fetch(`${url}/work`)).status).toBe(200)
  })

  it('answers 503 on /ready naming each check when a critical check fails', async () => {
    const { app } = testApp()
    app.health.add({ name: 'db', check: () => ({ ok: false, message: 'connection refused' }) })
    app.health.add({ name: 'cache', critical: false, check: () => {} })
    const url = await started(app)
    const ready = await json(await fetch(`${url}/ready`))
    expect(ready.status).toBe(503)
    expect(ready.type).toBe('application/problem+json')
    expect(ready.body.checks).toEqual([
      expect.objectContaining({
        name: 'db',
        status: 'fail',
        message: 'connection refused',
        durationMs: expect.any(Number),
      }),
      expect.objectContaining({ name: 'cache', status: 'pass' }),
    ])
    expect((await fetch(`${url}/live`)).status).toBe(200)
  })

  it('stays ready when only a non-critical check fails, reporting warn', async () => {
    const { app } = testApp()
    app.health.add({ name: 'cache', critical: false, check: () => false })
    const url = await started(app)
    const ready = await json(await fetch(`${url}/ready`))
    expect(ready).toMatchObject({ status: 200, body: { status: 'warn' } })
  })

  it('serves probes at configured paths', async () => {
    const { app } = testApp({ yaml: 'health:\n  readyPath: /healthz/ready\n' })
    const url = await started(app)
    expect((await fetch(`${url}/healthz/ready`)).status).toBe(200)
    expect((await fetch(`${url}/ready`)).status).toBe(404)
  })
})

describe('requests', () => {
  it('answers unknown routes with a 404 problem and wrong methods with 405 and Allow', async () => {
    const { app } = testApp()
    app.get('/items/:id', (ctx) => ({ id: ctx.params.id }))
    const url = await started(app)
    const missing = await json(await fetch(`${url}/nothing`))
    expect(missing).toMatchObject({ status: 404, type: 'application/problem+json' })
    expect(missing.body).toMatchObject({
      type: 'urn:keel:problem:not-found',
      code: 'KEEL_NOT_FOUND',
      status: 404,
    })
    const wrong = await fetch(`${url}/items/1`, { method: 'DELETE' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET')
    expect(((await wrong.json()) as { code: string }).code).toBe('KEEL_METHOD_NOT_ALLOWED')
  })

  it('turns a thrown error into a 500 problem that leaks nothing, logged with stack, request id and trace id', async () => {
    const { app, logs } = testApp()
    app.get('/boom', () => {
      throw new Error('secret internal detail at db.internal:5432')
    })
    const url = await started(app)
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const response = await fetch(`${url}/boom`, {
      headers: { 'x-request-id': 'req-boom-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    })
    const text = await response.text()
    expect(response.status).toBe(500)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(text).not.toContain('secret internal detail')
    expect(JSON.parse(text)).toMatchObject({ code: 'KEEL_INTERNAL', requestId: 'req-boom-1' })
    const failure = logs.records.find((r) => r.msg === 'request failed')
    expect(failure).toMatchObject({
      request_id: 'req-boom-1',
      trace_id: traceId,
      level: 'error',
      route: '/boom',
    })
    expect((failure?.err as { stack?: string } | undefined)?.stack).toContain('secret internal detail')
  })

  it('honours a safe X-Request-Id, replaces an unsafe one, and echoes it', async () => {
    const { app } = testApp()
    app.get('/id', (ctx) => ({ id: ctx.requestId }))
    const url = await started(app)
    const kept = await fetch(`${url}/id`, { headers: { 'x-request-id': 'abc-123' } })
    expect(kept.headers.get('x-request-id')).toBe('abc-123')
    expect(await kept.json()).toEqual({ id: 'abc-123' })
    const replaced = await fetch(`${url}/id`, { headers: { 'x-request-id': 'bad id\twith spaces' } })
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('sends objects as JSON, strings as text, nothing as 204, and the status a handler sets', async () => {
    const { app } = testApp()
    app.get('/json', () => ({ a: 1 }))
    app.get('/text', () => 'plain')
    app.delete('/gone', () => undefined)
    app.post('/made', (ctx) => {
      ctx.status = 201
      ctx.header('location', '/made/1')
      return { id: 1 }
    })
    const url = await started(app)
    const a = await fetch(`${url}/json`)
    expect([a.status, a.headers.get('content-type'), await a.text()]).toEqual([
      200,
      'application/json; charset=utf-8',
      '{"a":1}',
    ])
    const b = await fetch(`${url}/text`)
    expect([b.headers.get('content-type'), await b.text()]).toEqual(['text/plain; charset=utf-8', 'plain'])
    expect((await fetch(`${url}/gone`, { method: 'DELETE' })).status).toBe(204)
    const c = await fetch(`${url}/made`, { method: 'POST' })
    expect([c.status, c.headers.get('location')]).toEqual([201, '/made/1'])
  })

  it('rejects an invalid route definition with a clear message', () => {
    const { app } = testApp()
    expect(() => app.get('no-slash', () => 1)).toThrow('path must start with "/"')
    app.get('/x', () => 1)
    expect(() => app.get('/x', () => 1)).toThrow('route GET /x is already defined')
    expect(() => app.route({ method: 'FETCH' as never, path: '/y', handler: () => 1 })).toThrow(
      'unknown method "FETCH"',
    )
  })
})

describe('modules', () => {
  it('starts modules in dependency order and stops them in reverse', async () => {
    const events: string[] = []
    const module = (name: string, dependsOn: string[] = []): KeelModule => ({
      name,
      dependsOn,
      start: () => void events.push(`start ${name}`),
      stop: () => void events.push(`stop ${name}`),
    })
    const { app } = testApp({ modules: [module('api', ['db']), module('db')] })
    await app.start()
    const report = await app.stop()
    expect(events).toEqual(['start db', 'start api', 'stop api', 'stop db'])
    expect(report.ok).toBe(true)
    expect(report.phases.map((p) => p.phase)).toEqual(['http', 'module:api', 'module:db'])
    expect(app.state).toBe('stopped')
  })

  it('rejects start when a module fails, naming it, and stops the modules already started', async () => {
    const events: string[] = []
    const { app, logs } = testApp({
      modules: [
        { name: 'db', start: () => void events.push('start db'), stop: () => void events.push('stop db') },
        {
          name: 'broker',
          dependsOn: ['db'],
          start: () => {
            throw new Error('NATS unreachable')
          },
        },
      ],
    })
    await expect(app.start()).rejects.toMatchObject({
      code: 'KEEL_MODULE_START_FAILED',
      message: 'module "broker" failed to start: NATS unreachable',
    })
    expect(events).toEqual(['start db', 'stop db'])
    expect(app.state).toBe('stopped')
    expect(logs.records.some((r) => r.level === 'fatal' && r.code === 'KEEL_MODULE_START_FAILED')).toBe(true)
  })

  it('validates a module config section and gives it typed values', () => {
    const section = defineConfigSection('greeter', {
      greeting: Type.String({ default: 'hello' }),
      times: Type.Integer({ default: 1 }),
    })
    const greeter: KeelModule = { name: 'greeter', config: section }
    const { app } = testApp({ yaml: 'greeter:\n  greeting: hi\n', modules: [greeter] })
    expect(app.section(section)).toEqual({ greeting: 'hi', times: 1 })
    const bad = testApp({ yaml: 'greeter:\n  times: many\n' })
    expect(() => bad.app.use(greeter)).toThrow(/keel\.yaml:2 greeter\.times: expected integer, got "many"/)
  })

  it('accepts a module section added by use() after createApp, but refuses to start with a section no module claims', async () => {
    const section = defineConfigSection('greeter', { greeting: Type.String({ default: 'hello' }) })
    const { app } = testApp({ yaml: 'greeter:\n  greeting: hi\n' })
    app.use({ name: 'greeter', config: section })
    expect(app.section(section).greeting).toBe('hi')
    const orphan = testApp({ yaml: 'greetr:\n  greeting: hi\n' })
    await expect(orphan.app.start()).rejects.toThrow(/keel\.yaml:1 greetr: unknown section/)
    expect(orphan.app.state).toBe('created')
  })

  it('refuses changes once started', async () => {
    const { app } = testApp()
    await started(app)
    expect(() => app.use({ name: 'late' })).toThrow('cannot add a module: the app is ready')
    expect(() => app.get('/late', () => 1)).toThrow('cannot add a route: the app is ready')
    await expect(app.start()).rejects.toThrow('cannot start: the app is ready')
  })
})

describe('start-up errors', () => {
  it('names the port when it is already in use', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const { app } = testApp({ overrides: { server: { port, host: '127.0.0.1' } } })
      await expect(app.start()).rejects.toMatchObject({
        code: 'KEEL_PORT_IN_USE',
        message: `server.port: port ${port} on 127.0.0.1 is already in use`,
      })
      expect(app.state).toBe('stopped')
    } finally {
      blocker.close()
    }
  })
})

describe('describe()', () => {
  it('describes routes, probes, ports, checks, modules and backing services without listening', () => {
    const { app } = testApp({
      env: { DATABASE_URL: 'postgres://u:p@db:5432/app' },
      modules: [{ name: 'broker', describe: () => ({ services: ['nats'], subjects: ['orders.*'] }) }],
    })
    app.get('/orders/:id', () => ({}))
    app.health.add({ name: 'db', check: () => {} })
    const description = app.describe()
    expect(app.state).toBe('created')
    expect(description.routes).toContainEqual({
      method: 'GET',
      path: '/orders/:id',
      internal: false,
      meta: undefined,
      guards: [],
      schema: undefined,
    })
    expect(description.routes).toContainEqual(expect.objectContaining({ path: '/ready', internal: true }))
    expect(description.probes).toEqual({
      live: '/live',
      ready: '/ready',
      health: '/health',
      startup: '/startup',
    })
    expect(description.healthChecks).toEqual([{ name: 'db', critical: true }])
    expect(description.services).toEqual(['nats', 'postgres'])
    expect(description.modules).toEqual([
      { name: 'broker', dependsOn: [], services: ['nats'], subjects: ['orders.*'] },
    ])
    expect(description.configSchema.properties).toHaveProperty('server')
    expect(description.ports).toEqual([{ name: 'http', port: 0 }])
  })

  it('names the HTTPS port and the redirect port when TLS is configured', () => {
    const { app } = testApp({
      overrides: {
        server: {
          port: 8443,
          tls: { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' },
          redirectHttpPort: 8080,
        },
        metrics: { port: 9464 },
      },
    })
    expect(app.describe().ports).toEqual([
      { name: 'https', port: 8443 },
      { name: 'http-redirect', port: 8080 },
      { name: 'metrics', port: 9464 },
    ])
  })
})

describe('shutdown configuration', () => {
  it('refuses a drain delay that fills the whole shutdown deadline', () => {
    expect(() => testApp({ yaml: 'shutdown:\n  drainDelayMs: 30000\n  deadlineMs: 30000\n' })).toThrow(
      /shutdown\.drainDelayMs: must be shorter than shutdown\.deadlineMs \(30000\), got 30000/,
    )
  })
})
