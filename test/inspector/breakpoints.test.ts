import { Type } from '@sinclair/typebox'
import type { App } from 'keel/app'
import { database } from 'keel/data'
import { type FlowsModule, flow, flows, step } from 'keel/flow'
import { inspector } from 'keel/inspector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Breakpoints, valueAt } from '../../src/inspector/breakpoints.ts'
import { eventually } from '../flow/support/eventually.ts'
import { testApp } from '../support/test-app.ts'
import { inspectorPath, json, liveClient, problemOf } from './support/fixture-app.ts'

const ran: string[] = []
const reserve = step('reserve', (order: { id: string; amount: number }) => {
  ran.push(`reserve ${order.id}`)
  return order
})
const charge = step('charge', (order: { id: string; amount: number }) => {
  ran.push(`charge ${order.id}`)
  return order
})
const ship = step('ship', (order: { id: string; amount: number }) => {
  ran.push(`ship ${order.id}`)
  return { shipped: order.id }
})
const order = flow('order', {
  input: Type.Object({ id: Type.String(), amount: Type.Number(), password: Type.Optional(Type.String()) }),
})
  .andThen(reserve)
  .andThen(charge)
  .andThen(ship)
  .build()

interface Paused {
  runId: string
  step: string
  input: { id: string; password?: string }
  breakpointId: string | null
}

describe('inspector breakpoints (development)', () => {
  let app: App
  let url: string
  let flowsModule: FlowsModule
  const api = (path: string, init?: RequestInit) => fetch(`${url}${inspectorPath}${path}`, init)
  const post = (path: string, body?: unknown) =>
    api(path, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
  const paused = async () => (await json<{ paused: Paused[] }>(await api('/paused'))).paused
  const firstHeld = () =>
    eventually(async () => {
      const [run] = await paused()
      if (!run) throw new Error('not held yet')
      return run
    })

  beforeAll(async () => {
    const data = database({ migrations: false })
    flowsModule = flows({ database: data, flows: [order] })
    ;({ app } = testApp({
      modules: [data, flowsModule, inspector({ flows: [flowsModule] })],
      overrides: { flows: { pollMs: 50 } },
    }))
    url = (await app.start()).url
  }, 180_000)
  afterAll(async () => {
    await app?.stop()
  }, 60_000)

  it('holds a matching run before the step, steps it to the next one, then resumes it to the end', async () => {
    const created = await post('/breakpoints', {
      flow: 'order',
      step: 'charge',
      when: { pointer: '/amount', equals: 500 },
    })
    const point = await json<{ id: string; hits: number }>(created, 201)

    // Not matching the condition: runs straight through.
    const small = await flowsModule.runner.submit(order, { id: 'small', amount: 5 })
    expect((await flowsModule.runner.wait(small.runId, { timeoutMs: 20_000 })).status).toBe('completed')

    const big = await flowsModule.runner.submit(order, { id: 'big', amount: 500 })
    const held = await firstHeld()
    expect(held).toMatchObject({
      runId: big.runId,
      step: 'charge',
      input: { id: 'big' },
      breakpointId: point.id,
    })
    expect(ran).toContain('reserve big')
    expect(ran).not.toContain('charge big')

    // step: charge runs, the run stops again before ship, whatever the breakpoints say.
    expect((await post(`/paused/${big.runId}/step`)).status).toBe(202)
    const next = await eventually(async () => {
      const [run] = await paused()
      if (run?.step !== 'ship') throw new Error('not at ship yet')
      return run
    })
    expect(next.breakpointId).toBeNull()
    expect(ran).toContain('charge big')
    expect(ran).not.toContain('ship big')

    expect((await post(`/paused/${big.runId}/resume`)).status).toBe(202)
    expect((await flowsModule.runner.wait(big.runId, { timeoutMs: 20_000 })).status).toBe('completed')
    expect(await paused()).toEqual([])
    const [listed] = (
      await json<{ breakpoints: Array<{ id: string; hits: number }> }>(await api('/breakpoints'))
    ).breakpoints
    expect(listed).toMatchObject({ id: point.id, hits: 1 })
    expect((await api(`/breakpoints/${point.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await api(`/breakpoints/${point.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('shows a held run with its secrets redacted, while its condition matched the raw input', async () => {
    const live = liveClient(`${url.replace('http', 'ws')}${inspectorPath}/live`, ['keel-inspector.v1'])
    await live.opened
    try {
      // The condition is on the secret itself: it can only match if it sees the value unredacted.
      const point = await json<{ id: string }>(
        await post('/breakpoints', {
          flow: 'order',
          step: 'charge',
          when: { pointer: '/password', equals: 'hunter2' },
        }),
        201,
      )
      const other = await flowsModule.runner.submit(order, { id: 'other', amount: 1, password: 'letmein' })
      expect((await flowsModule.runner.wait(other.runId, { timeoutMs: 20_000 })).status).toBe('completed')

      const secret = await flowsModule.runner.submit(order, { id: 'secret', amount: 1, password: 'hunter2' })
      const held = await firstHeld()
      expect(held).toMatchObject({ runId: secret.runId, breakpointId: point.id })
      expect(held.input).toEqual({ id: 'secret', amount: 1, password: '[REDACTED]' })
      const message = await live.next((m) => m.type === 'paused')
      expect(message.run).toMatchObject({
        runId: secret.runId,
        input: { id: 'secret', password: '[REDACTED]' },
      })
      expect(JSON.stringify(message)).not.toContain('hunter2')

      expect((await post(`/paused/${secret.runId}/resume`)).status).toBe(202)
      expect((await flowsModule.runner.wait(secret.runId, { timeoutMs: 20_000 })).status).toBe('completed')
      // Held for display only: the step ran on the input as submitted.
      expect(ran).toContain('charge secret')
      expect((await api(`/breakpoints/${point.id}`, { method: 'DELETE' })).status).toBe(204)
    } finally {
      live.ws.close()
    }
  })

  it('refuses a breakpoint on a flow or step that does not run here, naming what does', async () => {
    const flowMissing = await post('/breakpoints', { flow: 'refund', step: 'charge' })
    expect((await problemOf(flowMissing, 422)).detail).toBe('no flow "refund" runs here; flows: order')
    const stepMissing = await post('/breakpoints', { flow: 'order', step: 'pack' })
    expect((await problemOf(stepMissing, 422)).detail).toBe(
      'flow "order" has no step "pack"; steps: reserve, charge, ship',
    )
    expect(
      (await post('/breakpoints', { flow: 'order', step: 'charge', when: { pointer: 'amount', equals: 1 } }))
        .status,
    ).toBe(400)
    expect((await post('/paused/nope/resume')).status).toBe(404)
  })
})

describe('Breakpoints', () => {
  it('lets a held run go when its signal aborts (shutdown), rejecting with the reason', async () => {
    const points = new Breakpoints()
    points.add({ flow: 'f', step: 's' })
    const controller = new AbortController()
    const held = points.gate({
      runId: 'r',
      flow: 'f',
      step: 's',
      key: 's',
      input: {},
      signal: controller.signal,
    })
    expect(points.paused().map((p) => p.runId)).toEqual(['r'])
    controller.abort(new Error('draining'))
    await expect(held).rejects.toThrow('draining')
    expect(points.paused()).toEqual([])
  })

  it('lets a second step of a held run id through rather than hold it where no one can release it', async () => {
    const points = new Breakpoints()
    points.add({ flow: 'f', step: 's' })
    const at = { runId: 'r', flow: 'f', key: 's', input: {}, signal: new AbortController().signal }
    // Two in-memory runs given the same runId, or two parallel branches of one run.
    const first = points.gate({ ...at, step: 's' })
    expect(points.gate({ ...at, step: 's' })).toBeUndefined()
    expect(points.paused()).toEqual([expect.objectContaining({ runId: 'r', step: 's' })])
    expect(points.release('r', 'resume')).toBe(true)
    await first
    expect(points.paused()).toEqual([])
  })

  it('reads RFC 6901 pointers, escapes included', () => {
    const doc = { 'a/b': { '~k': [10, 20] } }
    expect(valueAt(doc, '/a~1b/~0k/1')).toBe(20)
    expect(valueAt(doc, '/missing')).toBeUndefined()
    expect(valueAt(doc, '')).toBe(doc)
  })
})
