import { Type } from '@sinclair/typebox'
import { database } from 'keel/data'
import { flow, flows, step } from 'keel/flow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureApp, json, liveClient, problemOf } from './support/fixture-app.ts'

const path = '/ops/inspect'
const defaultPath = '/_keel/inspector'

const order = flow('order', { input: Type.Object({ id: Type.String() }) })
  .andThen(step('charge', (input: { id: string }) => input))
  .build()

describe('the inspector under a custom inspector.path', () => {
  const data = database({ migrations: false })
  const orders = flows({ database: data, flows: [order] })
  const { app } = fixtureApp({
    modules: [data, orders],
    inspector: { flows: [orders] },
    overrides: { inspector: { path } },
  })
  let url: string

  beforeAll(async () => {
    url = (await app.start()).url
  }, 180_000)
  afterAll(async () => {
    await app.stop()
  }, 60_000)

  it('answers its API there, the live path it names included, and describes itself with it', async () => {
    const index = await json<{ live: { path: string } }>(await fetch(`${url}${path}/v1`))
    expect(index.live.path).toBe(`${path}/v1/live`)
    expect((await fetch(`${url}/items/3`)).status).toBe(200)
    const { traces } = await json<{ traces: Array<{ route?: string }> }>(
      await fetch(`${url}${path}/v1/traces?route=${encodeURIComponent('/items/:id')}`),
    )
    expect(traces).toHaveLength(1)
    // Breakpoints (dev profile, with flows) move with it too.
    expect((await fetch(`${url}${path}/v1/breakpoints`)).status).toBe(200)
    expect((await fetch(`${url}${path}/v1/paused`)).status).toBe(200)
    expect(app.describe().modules.find((m) => m.name === 'inspector')).toMatchObject({
      inspector: { path },
    })
    // Its own routes stay internal there: not among the app routes it lists.
    const { routes } = await json<{ routes: Array<{ path: string }> }>(await fetch(`${url}${path}/v1/routes`))
    expect(routes.map((r) => r.path)).not.toContainEqual(expect.stringMatching(/^\/ops\//))
  })

  it('serves the UI page there, its stylesheet, entry module and import map all under the path', async () => {
    const res = await fetch(`${url}${path}/`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain(`data-base="${path}"`)
    const local = [...html.matchAll(/(?:href|src)="(\/[^"]*)"/g)].map((m) => m[1]!)
    expect(local).toEqual([`${path}/ui/inspector.css`, `${path}/ui/app.js`])
    const map = /<script type="importmap">([^<]*)<\/script>/.exec(html)![1]!
    const { imports } = JSON.parse(map) as { imports: Record<string, string> }
    expect(Object.values(imports)).toHaveLength(3)
    for (const address of [...local, ...Object.values(imports)]) {
      expect(address.startsWith(`${path}/`), address).toBe(true)
      expect((await fetch(`${url}${address}`)).status, address).toBe(200)
    }
  })

  it('opens the live feed there', async () => {
    const live = liveClient(`${url.replace('http', 'ws')}${path}/v1/live`, ['keel-inspector.v1'])
    try {
      await live.opened
      expect(await live.next((m) => m.type === 'hello')).toMatchObject({ role: 'operator' })
    } finally {
      live.ws.close()
    }
  })

  it('leaves nothing at the default path: API, UI, breakpoints and live feed answer 404', async () => {
    for (const at of ['/v1', '/v1/traces', '/v1/breakpoints', '/', '/ui/app.js', '/vendor/htm.module.js']) {
      await problemOf(await fetch(`${url}${defaultPath}${at}`), 404)
    }
    const live = liveClient(`${url.replace('http', 'ws')}${defaultPath}/v1/live`, ['keel-inspector.v1'])
    await expect(live.opened).rejects.toThrow('upgrade refused: 404')
  })
})
