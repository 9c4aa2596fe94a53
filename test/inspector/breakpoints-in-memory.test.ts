import { Type } from '@sinclair/typebox'
import type { App } from 'keel/app'
import { database } from 'keel/data'
import { flow, flows, runFlow, step } from 'keel/flow'
import { timeout } from 'keel/http'
import { inspector } from 'keel/inspector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inMemoryGate } from '../../src/flow/step-gates.ts'
import { eventually } from '../flow/support/eventually.ts'
import { testApp } from '../support/test-app.ts'
import { inspectorPath, json, liveClient, problemOf } from './support/fixture-app.ts'

interface Order {
  id: string
  amount: number
  password?: string
}

const ran: string[] = []
const reserve = step('reserve', (order: Order) => {
  ran.push(`reserve ${order.id}`)
  return order
})
const charge = step('charge', (order: Order) => {
  ran.push(`charge ${order.id}`)
  return order
})
const ship = step('ship', (order: Order) => {
  ran.push(`ship ${order.id}`)
  return { shipped: order.id }
})
const OrderSchema = Type.Object({
  id: Type.String(),
  amount: Type.Number(),
  password: Type.Optional(Type.String()),
})
const order = flow('order', { input: OrderSchema }).andThen(reserve).andThen(charge).andThen(ship).build()

interface Paused {
  runId: string
  flow: string
  step: string
  key: string
  input: Order
  breakpointId: string | null
}

/** A promise's outcome, readable without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false }
  const done = promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  )
  return { state, done }
}

// Runs of `runFlow` (in memory): the user passes nothing, the inspector gates them all the same.
describe('inspector breakpoints on in-memory runs (development)', () => {
  let app: App
  let url: string
  const api = (path: string, init?: RequestInit) => fetch(`${url}${inspectorPath}${path}`, init)
  const post = (path: string, body?: unknown, base = `${url}${inspectorPath}`) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
  const placeOrder = (path: string, body: Order) => post(path, body, url)
  const paused = async () => (await json<{ paused: Paused[] }>(await api('/paused'))).paused
  const heldAt = (stepName: string) =>
    eventually(async () => {
      const [run] = await paused()
      if (run?.step !== stepName) throw new Error(`not held at ${stepName} yet`)
      return run
    })
  const setBreakpoint = async (spec: Record<string, unknown>) =>
    json<{ id: string; hits: number }>(await post('/breakpoints', spec), 201)
  const removeBreakpoint = async (id: string) =>
    expect((await api(`/breakpoints/${id}`, { method: 'DELETE' })).status).toBe(204)

  beforeAll(async () => {
    const data = database({ migrations: false })
    const orders = flows({ database: data, flows: [order] })
    ;({ app } = testApp({ modules: [data, orders, inspector({ flows: [orders] })] }))
    // Handlers that run the flow in memory, as an app does without a durable runner.
    const place = async (body: Order, signal: AbortSignal) => {
      const result = await runFlow(order, body, { signal })
      if (result.status !== 'completed') throw new Error(`run ended ${result.status}`)
      return result.output
    }
    app.post('/orders', { body: OrderSchema }, (ctx) => place(ctx.body, ctx.signal))
    app.post('/quick-orders', { body: OrderSchema, guards: [timeout({ ms: 500 })] }, (ctx) =>
      place(ctx.body, ctx.signal),
    )
    url = (await app.start()).url
  }, 180_000)
  afterAll(async () => {
    await app?.stop()
  }, 60_000)

  it('holds a matching runFlow run before the step, and its request with it, then steps and resumes it', async () => {
    const live = liveClient(`${url.replace('http', 'ws')}${inspectorPath}/live`, ['keel-inspector.v1'])
    await live.opened
    try {
      const point = await setBreakpoint({
        flow: 'order',
        step: 'charge',
        when: { pointer: '/amount', equals: 500 },
      })

      // Not matching the condition: runs straight through.
      const small = await placeOrder('/orders', { id: 'small', amount: 5 })
      expect(await json(small)).toEqual({ shipped: 'small' })
      expect(ran).toContain('ship small')
      expect(await paused()).toEqual([])

      const answer = watch(placeOrder('/orders', { id: 'big', amount: 500, password: 'hunter2' }))
      const held = await heldAt('charge')
      expect(held).toMatchObject({
        flow: 'order',
        step: 'charge',
        key: 'charge',
        input: { id: 'big', amount: 500, password: '[REDACTED]' },
        breakpointId: point.id,
      })
      expect(ran).toContain('reserve big')
      expect(ran).not.toContain('charge big')
      const message = await live.next((m) => m.type === 'paused')
      expect(message.run).toMatchObject({ runId: held.runId, flow: 'order', step: 'charge' })
      expect(JSON.stringify(message)).not.toContain('hunter2')
      expect(answer.state.settled).toBe(false) // the caller waits with its run

      // An in-memory run is no dead letter: discarding it answers a problem, and it stays held.
      const discard = await post(`/dead-letters/flow/${held.runId}/discard`)
      expect(await problemOf(discard, 404)).toMatchObject({ code: 'KEEL_FLOW_RUN_NOT_FOUND' })
      expect((await paused()).map((p) => p.runId)).toEqual([held.runId])

      // step: charge runs, the run stops again before ship, whatever the breakpoints say.
      expect((await post(`/paused/${held.runId}/step`)).status).toBe(202)
      const next = await heldAt('ship')
      expect(next).toMatchObject({ runId: held.runId, breakpointId: null })
      expect(ran).toContain('charge big')
      expect(ran).not.toContain('ship big')
      expect(answer.state.settled).toBe(false)

      expect((await post(`/paused/${held.runId}/resume`)).status).toBe(202)
      await answer.done
      expect(await json(answer.state.value as Response)).toEqual({ shipped: 'big' })
      expect(await paused()).toEqual([])
      expect((await post(`/paused/${held.runId}/resume`)).status).toBe(404)
      const listed = (
        await json<{ breakpoints: Array<{ id: string; hits: number }> }>(await api('/breakpoints'))
      ).breakpoints
      expect(listed).toEqual([expect.objectContaining({ id: point.id, hits: 1 })])
      await removeBreakpoint(point.id)
    } finally {
      live.ws.close()
    }
  })

  it("ends the wait when the run's signal aborts: the run rejects and leaves /v1/paused", async () => {
    const point = await setBreakpoint({ flow: 'order', step: 'ship' })
    const controller = new AbortController()
    const running = watch(runFlow(order, { id: 'direct', amount: 1 }, { signal: controller.signal }))
    const held = await heldAt('ship')
    expect(held.input).toEqual({ id: 'direct', amount: 1 })
    expect(ran).toContain('charge direct')

    controller.abort(new Error('caller gave up'))
    await running.done
    expect(running.state.error).toMatchObject({ message: 'caller gave up' })
    expect(await paused()).toEqual([])
    expect(ran).not.toContain('ship direct')
    await removeBreakpoint(point.id)
  })

  it('lets a request timeout abort a held run when the route passes its signal', async () => {
    const point = await setBreakpoint({
      flow: 'order',
      step: 'charge',
      when: { pointer: '/id', equals: 'slow' },
    })
    const answer = await placeOrder('/quick-orders', { id: 'slow', amount: 1 })
    expect((await problemOf(answer, 504)).code).toBe('KEEL_TIMEOUT')
    // It was held (the breakpoint stopped it, charge never ran), and the abort let it go.
    await eventually(async () => expect(await paused()).toEqual([]))
    const [listed] = (await json<{ breakpoints: Array<{ hits: number }> }>(await api('/breakpoints')))
      .breakpoints
    expect(listed?.hits).toBe(1)
    expect(ran).toContain('reserve slow')
    expect(ran).not.toContain('charge slow')
    await removeBreakpoint(point.id)
  })

  it('lets a held run go when the app stops, and gates runFlow no more', async () => {
    expect(inMemoryGate()).toBeDefined()
    await setBreakpoint({ flow: 'order', step: 'charge' })
    const answer = watch(placeOrder('/orders', { id: 'last', amount: 1 }))
    await heldAt('charge')

    // The drain lets it go: the request ends normally instead of holding the server open.
    const report = await app.stop()
    await answer.done
    expect(answer.state.error).toBeUndefined()
    expect(await json(answer.state.value as Response)).toEqual({ shipped: 'last' })
    expect(report).toMatchObject({ ok: true })

    expect(inMemoryGate()).toBeUndefined()
    expect(await runFlow(order, { id: 'after', amount: 500 })).toMatchObject({
      status: 'completed',
      output: { shipped: 'after' },
    })
  })
})
