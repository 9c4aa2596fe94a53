import type { App } from 'keel/app'
import { type Guard, type GuardHost, rateLimit } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'
import { sampleValue, scrape } from './scrape.ts'

const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

/** A guard that records each host it is attached to. */
function recordingGuard(name: string): Guard & { hosts: GuardHost[] } {
  const hosts: GuardHost[] = []
  return { name, hosts, attach: (host) => void hosts.push(host), handle: (_ctx, next) => next() }
}

describe('attaching guards to their app', () => {
  it('attaches app-wide, group, route and WebSocket route guards once each, however many routes share them', () => {
    const { app } = testApp()
    const appWide = recordingGuard('app-wide')
    const group = recordingGuard('group')
    const route = recordingGuard('route')
    const ws = recordingGuard('ws')
    app.guard(appWide)
    app.group('/api', { guards: [group] }, (api) => {
      api.get('/a', () => 'a')
      api.get('/b', { guards: [route] }, () => 'b')
      api.group('/v2', {}, (v2) => v2.get('/c', () => 'c'))
    })
    app.ws('/live-feed', { guards: [ws, group] }, () => {})
    for (const guard of [appWide, group, route, ws]) {
      expect({ guard: guard.name, attached: guard.hosts.length }).toEqual({ guard: guard.name, attached: 1 })
      expect(guard.hosts[0]!.registry).toBe(app.metrics.registry)
    }
  })

  it("gives a host whose tracing is the app's current one and whose loggers are the app's", async () => {
    const { app, logs } = testApp()
    const guard = recordingGuard('g')
    app.guard(guard)
    const host = guard.hosts[0]!
    expect(host.tracing.enabled).toBe(false)
    host.logger('keel:test-guard').warn('from the guard')
    expect(logs.records.some((l) => l.msg === 'from the guard' && l.module === 'keel:test-guard')).toBe(true)
    await app.start()
    running.push(app)
    expect(host.tracing).toBe(app.tracing)
  })

  it('lets a guard without attach work as before', async () => {
    const { app } = testApp()
    app.guard({
      name: 'plain',
      handle(ctx, next) {
        ctx.header('x-plain', '1')
        return next()
      },
    })
    app.get('/hello', () => 'hi')
    const res = await app.inject('/hello')
    expect(res.headers['x-plain']).toBe('1')
  })

  it('reports a guard shared by two apps to the app it was attached to last', async () => {
    const limiter = rateLimit({ name: 'shared', limit: 100, windowMs: 60_000 })
    const first = testApp().app
    const second = testApp().app
    for (const app of [first, second]) {
      app.guard(limiter)
      app.get('/hello', () => 'hi')
    }
    const [a, b] = [await first.start(), await second.start()]
    running.push(first, second)
    await fetch(`${a.url}/hello`, { headers: { connection: 'close' } })
    await fetch(`${b.url}/hello`, { headers: { connection: 'close' } })
    const labels = { limiter: 'shared', outcome: 'allowed' }
    expect(sampleValue(await scrape(a.url), 'keel_rate_limit_requests_total', labels)).toBe(0)
    expect(sampleValue(await scrape(b.url), 'keel_rate_limit_requests_total', labels)).toBe(2)
  })

  it('attaches the guards of a raw route definition added with app.route()', async () => {
    const { app } = testApp()
    const limiter = rateLimit({ name: 'loose', limit: 1, windowMs: 60_000 })
    app.route({ method: 'GET', path: '/x', handler: () => 'x', guards: [limiter] })
    const { url } = await app.start()
    running.push(app)
    await fetch(`${url}/x`, { headers: { connection: 'close' } })
    expect(
      sampleValue(await scrape(url), 'keel_rate_limit_requests_total', {
        limiter: 'loose',
        outcome: 'allowed',
      }),
    ).toBe(1)
  })
})
