import { createServer } from 'node:net'
import { isKeelError } from 'keel/errors'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureApp, inspectorPath, json, liveClient, problemOf } from './support/fixture-app.ts'

const operatorToken = 'operator-token-0123456789abcdef'

describe('the inspector on a port of its own', () => {
  const { app } = fixtureApp({ overrides: { inspector: { port: 0, store: { maxTracesPerSecond: 0 } } } })
  let appUrl: string
  let inspectorUrl: string

  beforeAll(async () => {
    const address = await app.start()
    appUrl = address.url
    inspectorUrl = address.ownPorts!.inspector!
  })
  afterAll(async () => {
    await app.stop()
  })

  it('listens on another port than the app', () => {
    expect(new URL(inspectorUrl).port).not.toBe(new URL(appUrl).port)
    expect(inspectorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('answers the API, the UI and the live feed there', async () => {
    const hello = await json<{ profile: string }>(await fetch(`${inspectorUrl}${inspectorPath}`))
    expect(hello.profile).toBe('dev')
    const page = await fetch(`${inspectorUrl}/_keel/inspector/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<script type="importmap">')
    const live = liveClient(`${inspectorUrl.replace('http', 'ws')}${inspectorPath}/live`, [
      'keel-inspector.v1',
    ])
    await live.opened
    expect(await live.next((m) => m.type === 'hello')).toMatchObject({ role: 'operator' })
    live.ws.close()
  })

  it('is not on the app port: its paths are 404 there, WebSocket included', async () => {
    await problemOf(await fetch(`${appUrl}${inspectorPath}/traces`), 404)
    await problemOf(await fetch(`${appUrl}/_keel/inspector/`), 404)
    const live = liveClient(`${appUrl.replace('http', 'ws')}${inspectorPath}/live`, ['keel-inspector.v1'])
    await expect(live.opened).rejects.toThrow('upgrade refused: 404')
  })

  it('does not serve the app routes on its port', async () => {
    await problemOf(await fetch(`${inspectorUrl}/items/1`), 404)
    expect((await fetch(`${appUrl}/items/1`)).status).toBe(200)
  })

  it('shows the app port traffic', async () => {
    await fetch(`${appUrl}/items/7`)
    const { traces } = await json<{ traces: Array<{ route: string }> }>(
      await fetch(`${inspectorUrl}${inspectorPath}/traces?route=${encodeURIComponent('/items/:id')}`),
    )
    expect(traces.length).toBeGreaterThan(0)
  })

  it('relays into the app routes from its port', async () => {
    const routes = await json<{ routes: Array<{ id: string; path: string }> }>(
      await fetch(`${inspectorUrl}${inspectorPath}/routes`),
    )
    const item = routes.routes.find((r) => r.path === '/items/:id')!
    const relayed = await json<{ response: { status: number; body: unknown } }>(
      await fetch(`${inspectorUrl}${inspectorPath}/relay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ routeId: item.id, params: { id: 3 } }),
      }),
    )
    expect(relayed.response).toMatchObject({ status: 200, body: { id: 3, name: 'item 3' } })
  })

  it('is described as a port of its own, with its routes marked', () => {
    const description = app.describe()
    expect(description.ports.map((p) => p.name)).toEqual(['http', 'inspector'])
    const inspectorRoutes = description.routes.filter((r) => r.path.startsWith('/_keel/inspector'))
    expect(inspectorRoutes.length).toBeGreaterThan(5)
    expect(inspectorRoutes.every((r) => r.port === 'inspector')).toBe(true)
    expect(description.routes.find((r) => r.path === '/items/:id')?.port).toBeUndefined()
    const module = description.modules.find((m) => m.name === 'inspector')!
    expect(module.inspector).toMatchObject({ port: 0 })
  })
})

describe('the inspector port in the prod profile', () => {
  const { app } = fixtureApp({
    profile: 'prod',
    yaml: ['inspector:', '  enabled: true', '  port: 0', '  tokens:', '    operator:', '      - ${OP}'].join(
      '\n',
    ),
    env: { OP: operatorToken },
  })
  let inspectorUrl: string
  beforeAll(async () => {
    inspectorUrl = (await app.start()).ownPorts!.inspector!
  })
  afterAll(async () => {
    await app.stop()
  })

  it('still needs the token there', async () => {
    expect((await fetch(`${inspectorUrl}${inspectorPath}/traces`)).status).toBe(401)
    const res = await fetch(`${inspectorUrl}${inspectorPath}/traces`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    })
    expect(res.status).toBe(200)
  })
})

describe('an inspector port that cannot be bound', () => {
  it('fails start-up naming inspector.port, and leaves nothing listening', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    const { app } = fixtureApp({ overrides: { inspector: { port } } })
    try {
      const error = await app.start().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isKeelError(error) && error.code).toBe('KEEL_PORT_IN_USE')
      expect((error as Error).message).toContain(`inspector.port: port ${port}`)
      expect(app.state).toBe('stopped')
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })

  it('refuses a port out of range in config, naming the key', () => {
    expect(() => fixtureApp({ overrides: { inspector: { port: 70_000 } } })).toThrow(/inspector\.port/)
  })
})

describe('the inspector on the app port number', () => {
  it('stays on the app server when inspector.port equals server.port', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise((resolve) => probe.close(resolve))
    const { app } = fixtureApp({ overrides: { server: { port }, inspector: { port } } })
    const address = await app.start()
    try {
      expect(address.ownPorts).toBeUndefined()
      expect((await fetch(`${address.url}${inspectorPath}`)).status).toBe(200)
      expect(app.describe().ports.map((p) => p.name)).toEqual(['http'])
      // Described as on the app port, so keel check does not take it for a port of its own.
      const module = app.describe().modules.find((m) => m.name === 'inspector')!
      expect(module.inspector).toMatchObject({ port: null })
    } finally {
      await app.stop()
    }
  })
})
