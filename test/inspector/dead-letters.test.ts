import { Type } from '@sinclair/typebox'
import type { App } from 'keel/app'
import { database } from 'keel/data'
import { type FlowsModule, flow, flows, step } from 'keel/flow'
import { inspector } from 'keel/inspector'
import { type JobsModule, jobs, queue } from 'keel/jobs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { testApp } from '../support/test-app.ts'
import { inspectorPath, json, Latch, problemOf } from './support/fixture-app.ts'

interface Letter {
  kind: string
  id: string
  name: string
  attempts?: number
  error: { message: string; step?: string; phase?: string }
  data?: unknown
}

let isHealed = false
const pay = step('pay', {
  retry: { maxAttempts: 1 },
  run: (order: { orderId: string; cardToken: string }) => {
    if (!isHealed) throw new Error(`the payment provider is down for ${order.orderId}`)
    return { paid: order.orderId }
  },
})
const payout = flow('payout', { input: Type.Object({ orderId: Type.String(), cardToken: Type.String() }) })
  .andThen(pay)
  .build()

const gate = new Latch()
const wait = step('wait', async (n: number) => {
  await gate.promise
  return n
})
const waiting = flow<number>('waiting').andThen(wait).build()

const mailed: string[] = []
const mail = queue('mail', {
  data: Type.Object({ to: Type.String() }),
  retryLimit: 0,
  handler: (data) => {
    if (!isHealed) throw new Error(`the mail relay refused ${data.to}`)
    mailed.push(data.to)
  },
})

describe('inspector: flows, steps, stalls and dead letters (PGlite)', () => {
  let app: App
  let url: string
  let flowsModule: FlowsModule
  let jobsModule: JobsModule
  const api = (path: string, init?: RequestInit) => fetch(`${url}${inspectorPath}${path}`, init)
  const act = (path: string) => api(path, { method: 'POST' })
  const letters = async (query = '') =>
    (await json<{ deadLetters: Letter[] }>(await api(`/dead-letters${query}`))).deadLetters

  beforeAll(async () => {
    const data = database({ migrations: false })
    flowsModule = flows({ database: data, flows: [payout, waiting] })
    jobsModule = jobs({ database: data, queues: [mail] })
    ;({ app } = testApp({
      modules: [data, flowsModule, jobsModule, inspector({ flows: [flowsModule], jobs: [jobsModule] })],
      overrides: {
        flows: { pollMs: 50 },
        jobs: { pollingIntervalSeconds: 0.5, maintenanceIntervalSeconds: 1, concurrency: 1 },
        inspector: { stallThresholdMs: 50 },
      },
    }))
    url = (await app.start()).url
  }, 180_000)
  afterAll(async () => {
    gate.open()
    await app?.stop()
  }, 60_000)

  it('lists a dead flow run and a job out of retries, with redacted data', async () => {
    await flowsModule.runner.submit(
      payout,
      { orderId: 'o-1', cardToken: 'tok_visa_4242' },
      { runId: 'run-o-1' },
    )
    const jobId = await jobsModule.send(mail, { to: 'ada@example.com' })
    const found = await eventually(
      async () => {
        const list = await letters()
        expect(list.map((l) => l.kind).sort()).toEqual(['flow', 'job'])
        return list
      },
      { timeoutMs: 30_000 },
    )
    expect(found.find((l) => l.kind === 'flow')).toMatchObject({
      id: 'run-o-1',
      name: 'payout',
      error: { message: 'the payment provider is down for o-1', step: 'pay', phase: 'forward' },
      data: { orderId: 'o-1', cardToken: '[REDACTED]' },
    })
    expect(found.find((l) => l.kind === 'job')).toMatchObject({
      id: `mail:${jobId}`,
      name: 'mail',
      attempts: 1,
      error: { message: 'the mail relay refused ada@example.com' },
      data: { to: 'ada@example.com' },
    })
    expect((await letters('?kind=job')).map((l) => l.kind)).toEqual(['job'])
  }, 60_000)

  it('shows the flow graph with the step that failed counted in its window', async () => {
    const { flows: listed } = await json<{
      flows: Array<{
        name: string
        schematic: { nodes: Array<{ id: string }> }
        steps: Array<{ labels: Record<string, string>; window: { count: number; errors: number } }>
      }>
    }>(await api('/flows'))
    const graph = listed.find((f) => f.name === 'payout')!
    expect(graph.schematic.nodes.map((n) => n.id)).toContain('pay')
    expect(graph.steps.find((s) => s.labels.step === 'pay')?.window).toMatchObject({ count: 1, errors: 1 })
    expect(listed.map((f) => f.name).sort()).toEqual(['payout', 'waiting'])
  })

  it('retries both once the cause is fixed, and they complete', async () => {
    isHealed = true
    const flowLetter = (await letters('?kind=flow'))[0]!
    const jobLetter = (await letters('?kind=job'))[0]!
    const retried = await json(await act(`/dead-letters/flow/${flowLetter.id}/retry`), 202)
    expect(retried).toEqual({ kind: 'flow', id: 'run-o-1', action: 'retry' })
    await json(await act(`/dead-letters/job/${encodeURIComponent(jobLetter.id)}/retry`), 202)
    await eventually(
      async () => expect((await flowsModule.runner.get('run-o-1'))?.status).toBe('completed'),
      {
        timeoutMs: 30_000,
      },
    )
    await eventually(() => expect(mailed).toEqual(['ada@example.com']), { timeoutMs: 30_000 })
    expect(await letters()).toEqual([])
  }, 60_000)

  it('discards a dead run (compensating it) and a dead job', async () => {
    isHealed = false
    await flowsModule.runner.submit(payout, { orderId: 'o-2', cardToken: 't' }, { runId: 'run-o-2' })
    const jobId = await jobsModule.send(mail, { to: 'bob@example.com' })
    await eventually(async () => expect(await letters()).toHaveLength(2), { timeoutMs: 30_000 })
    await json(await act('/dead-letters/flow/run-o-2/discard'), 202)
    await json(await act(`/dead-letters/job/mail:${jobId}/discard`), 202)
    await eventually(async () =>
      expect((await flowsModule.runner.get('run-o-2'))?.status).toMatch(/^(discarded|compensated)$/),
    )
    expect(await letters()).toEqual([])
    expect(await jobsModule.getJob(mail, jobId!)).toBeNull()
  }, 60_000)

  it('answers problem+json for what cannot be retried', async () => {
    expect((await problemOf(await act('/dead-letters/flow/no-such-run/retry'), 404)).code).toBe(
      'KEEL_FLOW_RUN_NOT_FOUND',
    )
    // Completed, not dead: a conflict, not a retry.
    expect((await problemOf(await act('/dead-letters/flow/run-o-1/retry'), 409)).code).toBe(
      'KEEL_FLOW_RUN_STATE',
    )
    expect((await problemOf(await act('/dead-letters/job/nope:123/retry'), 404)).code).toBe(
      'KEEL_JOB_NOT_FOUND',
    )
    expect((await problemOf(await act('/dead-letters/job/mail:not-a-uuid/retry'), 400)).code).toBe(
      'KEEL_JOB_INVALID_OPTIONS',
    )
    const unknownId = 'mail:00000000-0000-4000-8000-000000000000'
    expect((await problemOf(await act(`/dead-letters/job/${unknownId}/discard`), 404)).code).toBe(
      'KEEL_JOB_NOT_FOUND',
    )
    expect((await problemOf(await act('/dead-letters/parcel/x/retry'), 400)).code).toBe('KEEL_VALIDATION')
  })

  it('lists a flow step running past the stall threshold', async () => {
    await flowsModule.runner.submit(waiting, 3, { runId: 'run-wait' })
    const stall = await eventually(
      async () => {
        const { stalls } = await json<{ stalls: Array<Record<string, unknown>> }>(await api('/stalls'))
        const found = stalls.find((s) => s.kind === 'step')
        expect(found).toBeDefined()
        return found!
      },
      { timeoutMs: 20_000 },
    )
    expect(stall).toMatchObject({
      name: 'waiting / wait',
      details: { flow: 'waiting', step: 'wait', runId: 'run-wait', attempt: 1 },
    })
    gate.open()
    await eventually(async () => expect((await flowsModule.runner.get('run-wait'))?.status).toBe('completed'))
  }, 30_000)
})
