import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Type } from '@sinclair/typebox'
import type { App } from 'keel/app'
import { database, openDb } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import {
  type FlowSchematic,
  type FlowsModule,
  flow,
  flows,
  flowsSection,
  Outcome,
  serveFlow,
  step,
} from 'keel/flow'
import { type Guard, HttpError, openApiDocument } from 'keel/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { testApp } from '../support/test-app.ts'
import { eventually } from './support/eventually.ts'
import { Gate } from './support/gate.ts'

// PGlite takes seconds to open: one app serves every test of the first block.
const slowMs = 180_000

const Order = Type.Object({ item: Type.String({ minLength: 1 }), qty: Type.Integer({ minimum: 1 }) })
const Receipt = Type.Object({ item: Type.String(), qty: Type.Integer(), chargeId: Type.String() })

/** Executions of each step's function, by input item. */
const executions = new Map<string, number>()
const count = (what: string) => executions.set(what, (executions.get(what) ?? 0) + 1)
const released: string[] = []

const reserve = step('reserve', {
  run: (order: { item: string; qty: number }) => {
    count(`reserve:${order.item}`)
    return order
  },
  compensate: (order) => void released.push(order.item),
})
const charge = step('charge', {
  retry: { maxAttempts: 2, initialDelayMs: 1, jitter: false },
  run: (order: { item: string; qty: number }, ctx) => {
    count(`charge:${order.item}`)
    if (order.item === 'declined')
      return Outcome.fault('card_declined', 'the card was declined', { last4: '4242' })
    if (order.item === 'broken') throw new Error('payment provider said 500 (secret internals)')
    return { ...order, chargeId: `ch_${ctx.idempotencyKey}` }
  },
})
const orderFlow = flow('order', { input: Order, description: 'Takes an order' })
  .andThen(reserve)
  .andThen(charge)
  .build()

const gate = new Gate()
const waitAtGate = step('wait-at-gate', async (n: number) => {
  await gate.promise
  return { n }
})
const gatedFlow = flow<number>('gated').andThen(waitAtGate).build()

const echo = step('echo', (text: string) => text.toUpperCase())
const echoFlow = flow('echo', { input: Type.String() }).andThen(echo).build()

const needsKey: Guard = {
  name: 'test.key',
  handle(ctx, next) {
    if (ctx.headers['x-key'] !== 'open-sesame') throw new HttpError(401, 'KEEL_UNAUTHORIZED', 'no key')
    return next()
  },
}

const problemOf = async (res: Response) => {
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as Record<string, unknown> & { code: string; status: number }
}

describe('flows() and serveFlow()', () => {
  let app: App
  let url: string
  let module: FlowsModule

  beforeAll(async () => {
    const data = database()
    module = flows({ database: data, flows: [orderFlow, gatedFlow, echoFlow] })
    app = testApp({ modules: [data, module], yaml: 'flows:\n  pollMs: 50\n' }).app
    serveFlow(app, module, orderFlow, { path: '/orders', mode: 'sync', response: Receipt })
    serveFlow(app, module, orderFlow, { path: '/order-jobs' })
    serveFlow(app, module, gatedFlow, { path: '/gated', mode: 'sync', timeoutMs: 200 })
    app.group('/admin', {}, (admin) =>
      serveFlow(admin, module, echoFlow, { path: '/echo', mode: 'sync', guards: [needsKey] }),
    )
    url = (await app.start()).url
  }, 180_000)

  afterAll(async () => {
    gate.open()
    await app?.stop()
  }, 60_000)

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  it('starts the runner with the app and reports it in /ready as a non-critical check', async () => {
    expect(module.runner.flows.map((f) => f.name)).toEqual(['order', 'gated', 'echo'])
    const ready = await fetch(`${url}/ready`)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { checks: Array<Record<string, unknown>> }
    expect(body.checks).toContainEqual(
      expect.objectContaining({
        name: 'flows',
        status: 'pass',
        critical: false,
        details: expect.objectContaining({ activeRuns: expect.any(Number), concurrency: 16 }),
      }),
    )
  })

  it('sync: runs the flow end to end and answers 200 with its output', async () => {
    const res = await post('/orders', { item: 'book', qty: 2 })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const receipt = (await res.json()) as { chargeId: string }
    expect(receipt).toEqual({ item: 'book', qty: 2, chargeId: expect.stringMatching(/^ch_.+\/charge$/) })
  })

  it('async: answers 202 with Location, and the status URL shows the output once the run completes', async () => {
    const res = await post('/order-jobs', { item: 'lamp', qty: 1 })
    expect(res.status).toBe(202)
    const accepted = (await res.json()) as { runId: string; status: string; statusUrl: string }
    expect(accepted.runId).toMatch(/^[0-9a-f-]{36}$/)
    expect(accepted.statusUrl).toBe(`/order-jobs/runs/${accepted.runId}`)
    expect(res.headers.get('location')).toBe(accepted.statusUrl)
    expect(['pending', 'running', 'completed']).toContain(accepted.status)

    const run = await eventually(async () => {
      const status = (await (await fetch(`${url}${accepted.statusUrl}`)).json()) as Record<string, unknown>
      expect(status.status).toBe('completed')
      return status
    })
    expect(run).toEqual({
      runId: accepted.runId,
      flow: 'order',
      status: 'completed',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      finishedAt: expect.any(String),
      output: { item: 'lamp', qty: 1, chargeId: `ch_${accepted.runId}/charge` },
    })
    expect(run).not.toHaveProperty('input')
    expect(run).not.toHaveProperty('context')
  })

  it('Idempotency-Key: the same key gets the same run, and the flow executes once', async () => {
    const first = await post('/order-jobs', { item: 'chair', qty: 4 }, { 'idempotency-key': 'k-chair' })
    const again = await post('/order-jobs', { item: 'chair', qty: 4 }, { 'idempotency-key': 'k-chair' })
    const synced = await post('/orders', { qty: 4, item: 'chair' }, { 'idempotency-key': 'k-chair' })
    const [a, b] = (await Promise.all([first.json(), again.json()])) as Array<{ runId: string }>
    expect(first.status).toBe(202)
    expect(again.status).toBe(202)
    expect(a!.runId).toBe('order:k-chair')
    expect(b!.runId).toBe('order:k-chair')
    expect(first.headers.get('location')).toBe('/order-jobs/runs/order%3Ak-chair')
    // The sync route shares the flow's keys: it waits for the same run instead of starting one.
    expect(synced.status).toBe(200)
    expect(await synced.json()).toEqual({ item: 'chair', qty: 4, chargeId: 'ch_order:k-chair/charge' })
    expect(executions.get('reserve:chair')).toBe(1)
    expect(executions.get('charge:chair')).toBe(1)
    const status = (await (await fetch(`${url}/order-jobs/runs/order%3Ak-chair`)).json()) as {
      status: string
    }
    expect(status.status).toBe('completed')
  })

  it('Idempotency-Key reused with another body: 422 problem, and no second run', async () => {
    await post('/orders', { item: 'desk', qty: 1 }, { 'idempotency-key': 'k-desk' })
    const res = await post('/orders', { item: 'desk', qty: 9 }, { 'idempotency-key': 'k-desk' })
    expect(res.status).toBe(422)
    const problem = await problemOf(res)
    expect(problem).toMatchObject({ code: 'KEEL_UNPROCESSABLE', runId: 'order:k-desk' })
    expect(executions.get('reserve:desk')).toBe(1)
  })

  it('a fault: 422 problem+json with KEEL_FLOW_FAULT and the fault, after compensating', async () => {
    const res = await post('/orders', { item: 'declined', qty: 1 }, { 'idempotency-key': 'k-declined' })
    expect(res.status).toBe(422)
    const problem = await problemOf(res)
    expect(problem).toMatchObject({
      type: 'urn:keel:problem:flow-fault',
      status: 422,
      code: 'KEEL_FLOW_FAULT',
      detail: 'the card was declined',
      runId: 'order:k-declined',
      fault: { code: 'card_declined', message: 'the card was declined', details: { last4: '4242' } },
    })
    expect(released).toContain('declined')
    const status = await (await fetch(`${url}/orders/runs/order%3Ak-declined`)).json()
    expect(status).toMatchObject({
      status: 'compensated',
      fault: { code: 'card_declined', details: { last4: '4242' } },
    })
    expect(status).not.toHaveProperty('output')
  })

  it('a dead run: 500 problem with its runId and no internals; the dead-letter list holds it', async () => {
    const res = await post('/orders', { item: 'broken', qty: 1 }, { 'idempotency-key': 'k-broken' })
    expect(res.status).toBe(500)
    const problem = await problemOf(res)
    expect(problem).toMatchObject({ code: 'KEEL_FLOW_DEAD', runId: 'order:k-broken' })
    expect(JSON.stringify(problem)).not.toContain('secret internals')
    expect(executions.get('charge:broken')).toBe(2)

    const dead = await module.runner.deadLetters({ flow: 'order' })
    expect(dead.map((r) => r.id)).toContain('order:k-broken')
    const status = await (await fetch(`${url}/orders/runs/order%3Ak-broken`)).json()
    // Where it stopped, never why: the message stays with operators.
    expect(status).toMatchObject({ status: 'dead', error: { step: 'charge', phase: 'forward' } })
    expect(JSON.stringify(status)).not.toContain('payment provider')
    expect(dead.find((r) => r.id === 'order:k-broken')?.error?.message).toContain('payment provider')
  })

  it('bad input: 400 problem naming each violation by JSON pointer, and no run', async () => {
    const before = (await module.runner.list({ flow: 'order', limit: 1000 })).length
    const res = await post('/orders', { item: '', qty: 'two', extra: true })
    expect(res.status).toBe(400)
    const problem = await problemOf(res)
    expect(problem.code).toBe('KEEL_VALIDATION')
    const pointers = (problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort()
    expect(pointers).toEqual(['/body/extra', '/body/item', '/body/qty'])

    const malformed = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":',
    })
    expect(malformed.status).toBe(400)
    expect((await problemOf(malformed)).code).toBe('KEEL_MALFORMED_JSON')

    const longKey = await post('/orders', { item: 'x', qty: 1 }, { 'idempotency-key': 'k'.repeat(300) })
    expect(longKey.status).toBe(400)
    expect((await problemOf(longKey)).errors).toEqual([
      expect.objectContaining({ pointer: '/headers/idempotency-key' }),
    ])
    expect((await module.runner.list({ flow: 'order', limit: 1000 })).length).toBe(before)
  })

  it('an unknown run, or a run of another flow: 404 problem', async () => {
    const unknown = await fetch(`${url}/orders/runs/nope`)
    expect(unknown.status).toBe(404)
    expect(await problemOf(unknown)).toMatchObject({ code: 'KEEL_FLOW_RUN_NOT_FOUND' })

    const { runId } = await module.runner.submit(echoFlow, 'hi')
    const other = await fetch(`${url}/orders/runs/${runId}`)
    expect(other.status).toBe(404)
    expect((await fetch(`${url}/orders/runs/${runId}/timeline`)).status).toBe(404)
  })

  it('sync: a run still going at timeoutMs answers 202 with Location, and completes later', async () => {
    const res = await post('/gated', 7, { 'idempotency-key': 'g1' })
    expect(res.status).toBe(202)
    expect(res.headers.get('location')).toBe('/gated/runs/gated%3Ag1')
    expect(await res.json()).toEqual({
      runId: 'gated:g1',
      status: 'running',
      statusUrl: '/gated/runs/gated%3Ag1',
    })
    gate.open()
    const status = await eventually(async () => {
      const body = (await (await fetch(`${url}/gated/runs/gated%3Ag1`)).json()) as { status: string }
      expect(body.status).toBe('completed')
      return body
    })
    expect(status).toMatchObject({ output: { n: 7 } })
  })

  it('serves the timeline of a run', async () => {
    await post('/orders', { item: 'pen', qty: 3 }, { 'idempotency-key': 'k-pen' })
    const res = await fetch(`${url}/orders/runs/order%3Ak-pen/timeline`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { runId: string; events: Array<{ type: string; step?: string }> }
    expect(body.runId).toBe('order:k-pen')
    expect(body.events.map((e) => [e.type, e.step])).toEqual([
      ['run.started', undefined],
      ['step.completed', 'reserve'],
      ['step.completed', 'charge'],
      ['run.completed', undefined],
    ])
  })

  it('puts guards on all three routes, inside groups, with scalar input and output as JSON', async () => {
    const denied = await post('/admin/echo', 'hello')
    expect(denied.status).toBe(401)
    expect((await problemOf(denied)).code).toBe('KEEL_UNAUTHORIZED')

    const ok = await post('/admin/echo', 'hello', { 'x-key': 'open-sesame', 'idempotency-key': 'e1' })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await ok.json()).toBe('HELLO')

    expect((await fetch(`${url}/admin/echo/runs/echo%3Ae1`)).status).toBe(401)
    expect((await fetch(`${url}/admin/echo/runs/echo%3Ae1/timeline`)).status).toBe(401)
    const status = await fetch(`${url}/admin/echo/runs/echo%3Ae1`, { headers: { 'x-key': 'open-sesame' } })
    expect(await status.json()).toMatchObject({ status: 'completed', output: 'HELLO' })
  })

  it('describes each flow’s schematic in app.describe(), and the routes in a valid OpenAPI document', async () => {
    const description = app.describe()
    const described = description.modules.find((m) => m.name === 'flows')
    expect(described).toMatchObject({ dependsOn: ['database'] })
    const schematics = described!.flows as FlowSchematic[]
    expect(schematics.map((s) => s.name)).toEqual(['order', 'gated', 'echo'])
    expect(schematics[0]).toEqual(orderFlow.describe())
    expect(schematics[0]!.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['reserve', 'charge']))

    const document = openApiDocument(description)
    const validator = new Validator()
    const result = await validator.validate(structuredClone(document) as never)
    expect(result.errors).toBeUndefined()
    const post = document.paths['/orders']!.post!
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '422', '500']))
    expect(post.responses['422']).toEqual({ $ref: '#/components/responses/UnprocessableContent' })
    expect(post.parameters).toEqual([
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: false }),
    ])
    expect(document.paths['/order-jobs/runs/{runId}']!.get!.responses['404']).toBeDefined()
    expect(document.components.schemas.FlowRunAccepted).toBeDefined()
  })

  it('exposes keel_flow_* series at /metrics after runs', async () => {
    const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    const completed = findSamples(samples, 'keel_flow_runs_total', { flow: 'order', status: 'completed' })
    expect(completed[0]?.value).toBeGreaterThanOrEqual(3)
    expect(
      findSamples(samples, 'keel_flow_runs_total', { flow: 'order', status: 'compensated' }),
    ).toHaveLength(1)
    expect(findSamples(samples, 'keel_flow_runs_total', { flow: 'order', status: 'dead' })).toHaveLength(1)
    expect(
      findSamples(samples, 'keel_flow_step_runs_total', {
        flow: 'order',
        step: 'charge',
        outcome: 'failed',
      })[0]?.value,
    ).toBe(2)
    expect(
      findSamples(samples, 'keel_flow_step_duration_seconds_count', { flow: 'order', step: 'reserve' }),
    ).toHaveLength(1)
  })
})

describe('flows(): definition and config', () => {
  it('throws KEEL_APP_STATE when runner is read before the app started', () => {
    const data = database()
    const module = flows({ database: data, flows: [orderFlow] })
    testApp({ modules: [data, module] })
    let error: unknown
    try {
      void module.runner
    } catch (caught) {
      error = caught
    }
    expect(isKeelError(error)).toBe(true)
    expect((error as KeelError).code).toBe('KEEL_APP_STATE')
    expect((error as Error).message).toMatch(/flow runner starts with the app/)
  })

  it('declares the flows section with its defaults, and refuses a bad value naming the key', () => {
    const data = database()
    const { app } = testApp({ modules: [data, flows({ database: data, flows: [orderFlow] })] })
    expect(app.section(flowsSection)).toEqual({
      concurrency: 16,
      leaseMs: 15_000,
      pollMs: 500,
      maxResumes: 10,
    })
    const again = database()
    expect(() =>
      testApp({
        yaml: 'flows:\n  concurrency: 0\n',
        modules: [again, flows({ database: again, flows: [] })],
      }),
    ).toThrow(/keel\.yaml:2 flows\.concurrency/)
  })

  it('refuses two flows with one name, and serving a flow the module does not run', () => {
    const data = database()
    expect(() => flows({ database: data, flows: [orderFlow, orderFlow] })).toThrow(
      /two flows are named "order"/,
    )
    const module = flows({ database: data, flows: [orderFlow] })
    const { app } = testApp({ modules: [data, module] })
    expect(() => serveFlow(app, module, echoFlow, { path: '/echo' })).toThrow(/does not run flow "echo"/)
    expect(() => serveFlow(app, module, orderFlow, { path: 'orders' })).toThrow(/must start with "\/"/)
  })
})

describe('flows(): shutdown', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it(
    'drains on stop: the step finishes, the run is released, and the next app resumes and completes it',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'keel-flows-'))
      dirs.push(dataDir)
      const yaml = `data:\n  dataDir: ${JSON.stringify(dataDir)}\nflows:\n  pollMs: 50\n  drainTimeoutMs: 20000\n`
      const ran: string[] = []
      const inStep = new Gate()
      const release = new Gate()
      const first = step('first', async (n: number) => {
        ran.push('first')
        inStep.open()
        await release.promise
        return n + 1
      })
      const second = step('second', (n: number) => {
        ran.push('second')
        return n * 10
      })
      const twoSteps = flow<number>('two-steps').andThen(first).andThen(second).build()

      const data1 = database()
      const flows1 = flows({ database: data1, flows: [twoSteps] })
      const app1 = testApp({ yaml, modules: [data1, flows1] }).app
      serveFlow(app1, flows1, twoSteps, { path: '/two', mode: 'sync', timeoutMs: 60_000 })
      expect(flows1.stopTimeoutMs).toBeUndefined()
      const { url } = await app1.start()
      // flows.drainTimeoutMs sets the module's stop deadline, with room to park the runs.
      expect(flows1.stopTimeoutMs).toBe(22_000)
      const waiting = fetch(`${url}/two`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'drained' },
        body: '4',
      })
      await inStep.promise
      const runId = 'two-steps:drained'

      const stopping = app1.stop()
      // A sync request does not hold the shutdown up: it gets 202 and where to look, at once.
      const answer = await waiting
      expect(answer.status).toBe(202)
      expect(answer.headers.get('location')).toBe('/two/runs/two-steps%3Adrained')
      expect(release.isOpen).toBe(false)
      // The health check goes just before runner.stop(): open the gate once the runner drains.
      await eventually(() => expect(app1.health.list().map((c) => c.name)).not.toContain('flows'))
      release.open()
      const report = await stopping
      expect(report.phases.find((p) => p.phase === 'module:flows')).toMatchObject({ status: 'ok' })
      expect(ran).toEqual(['first'])

      const raw = await openDb({ dataDir })
      try {
        const [row] = await raw.query<{ status: string; owner: string | null }>(
          'select status, owner from keel_flow_runs where id = $1',
          [runId],
        )
        expect(row!.status).not.toBe('completed')
        expect(row!.owner).toBeNull()
        const events = await raw.query<{ type: string }>(
          'select type from keel_flow_events where run_id = $1 order by seq',
          [runId],
        )
        expect(events.map((e) => e.type)).toEqual(['run.started', 'step.completed', 'run.released'])
      } finally {
        await raw.close()
      }

      const data2 = database()
      const flows2 = flows({ database: data2, flows: [twoSteps] })
      const app2 = testApp({ yaml, modules: [data2, flows2] }).app
      await app2.start()
      try {
        const run = await flows2.runner.wait(runId, { timeoutMs: 20_000 })
        expect(run).toMatchObject({ status: 'completed', output: 50, executions: 2 })
        // The first step's checkpoint was kept: only the second ran again.
        expect(ran).toEqual(['first', 'second'])
      } finally {
        await app2.stop()
      }
    },
    slowMs,
  )
})
