import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { type Static, Type } from '@sinclair/typebox'
import { isKeelError, KeelError } from 'keel/errors'
import {
  Bus,
  busKey,
  FakeClock,
  flow,
  Outcome,
  runFlow,
  type StepAt,
  type StepContext,
  type StepOptions,
  step,
} from 'keel/flow'
import { isHttpError } from 'keel/http'
import { circuitBreaker } from 'keel/resilience'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/** The timeline's event types, optionally only those about `key`. */
const typesOf = (timeline: readonly { type: string; step?: string }[], key?: string) =>
  timeline.filter((e) => key === undefined || e.step === key).map((e) => e.type)

describe('runFlow: steps and outcomes', () => {
  it('treats a plain return value as next: each step gets the previous output', async () => {
    const add = step('add', (n: number) => n + 1)
    const double = step('double', async (n: number) => n * 2)
    const calc = flow<number>('calc').andThen(add).andThen(double).build()

    const result = await runFlow(calc, 4, { runId: 'r1' })

    expect(result).toMatchObject({ status: 'completed', runId: 'r1', output: 10 })
    expect(typesOf(result.timeline)).toEqual([
      'run.started',
      'step.completed',
      'step.completed',
      'run.completed',
    ])
    expect(result.timeline.filter((e) => e.type === 'step.completed').map((e) => e.step)).toEqual([
      'add',
      'double',
    ])
    expect(result.timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4])
  })

  it('Outcome.next goes on with its value', async () => {
    const wrap = step('wrap', (n: number) => Outcome.next({ n }))
    const result = await runFlow(flow<number>('wrap').andThen(wrap).build(), 3)
    expect(result).toMatchObject({ status: 'completed', output: { n: 3 } })
  })

  it('Outcome.branch runs the chosen path with the value it carries, and only that path', async () => {
    const seen: string[] = []
    const size = step('size', {
      paths: ['big', 'small'] as const,
      run: (n: number) => (n > 100 ? Outcome.branch('big', n / 100) : Outcome.branch('small', n * 100)),
    })
    const big = step('big', (n: number) => {
      seen.push(`big ${n}`)
      return `big:${n}`
    })
    const small = step('small', (n: number) => {
      seen.push(`small ${n}`)
      return `small:${n}`
    })
    const sized = flow<number>('sized').branch(size, { big, small }).build()

    const result = await runFlow(sized, 500)

    expect(result).toMatchObject({ status: 'completed', output: 'big:5' })
    expect(seen).toEqual(['big 5'])
    expect(result.timeline.find((e) => e.type === 'branch.taken')).toMatchObject({
      step: 'size',
      data: { path: 'big' },
    })
    const other = await runFlow(sized, 2)
    expect(other).toMatchObject({ status: 'completed', output: 'small:200' })
  })

  it('a decider that returns no Outcome.branch ends the run dead naming it', async () => {
    const size = step('size', { paths: ['big', 'small'] as const, run: (n: number) => n })
    const end = step('end', (n: number) => n)
    const sized = flow<number>('sized').branch(size, { big: end, small: step('small', (n: number) => n) })
    const result = await runFlow(sized.build(), 1)
    expect(result.status).toBe('dead')
    if (result.status !== 'dead') return
    expect(result.step).toBe('size')
    expect(isKeelError(result.error) && result.error.code).toBe('KEEL_FLOW_INVALID')
  })

  it('Outcome.emit records the event, delivers it to onEvent, and goes on with the value', async () => {
    const delivered: unknown[] = []
    const charge = step('charge', (order: { id: string }) =>
      Outcome.emit('order.charged', { id: order.id, amount: 12 }, { ...order, charged: true }),
    )
    const then = step('then', (order: { id: string; charged: boolean }) => order.charged)
    const result = await runFlow(
      flow<{ id: string }>('pay').andThen(charge).andThen(then).build(),
      { id: 'o1' },
      {
        onEvent: (event, payload) => delivered.push({ event, payload }),
      },
    )

    expect(result).toMatchObject({ status: 'completed', output: true })
    expect(delivered).toEqual([{ event: 'order.charged', payload: { id: 'o1', amount: 12 } }])
    expect(result.timeline.find((e) => e.type === 'event.emitted')).toMatchObject({
      step: 'charge',
      data: { event: 'order.charged', payload: { id: 'o1', amount: 12 } },
    })
  })

  it('a throwing onEvent listener neither fails the step nor stops the run', async () => {
    const after: number[] = []
    const tell = step('tell', (n: number) => Outcome.emit('told', { n }, n))
    const then = step('then', (n: number) => {
      after.push(n)
      return n + 1
    })
    const result = await runFlow(flow<number>('tell').andThen(tell).andThen(then).build(), 1, {
      onEvent: () => {
        throw new Error('listener broke')
      },
    })
    expect(result).toMatchObject({ status: 'completed', output: 2 })
    expect(after).toEqual([1])
  })
})

describe('runFlow: parallel', () => {
  it('gives every branch the same input and returns outputs by branch name', async () => {
    const inputs: unknown[] = []
    const add = step('add', (n: number) => {
      inputs.push(n)
      return n + 1
    })
    const label = step('label', (n: number) => {
      inputs.push(n)
      return `#${n}`
    })
    const both = flow<number>('both').parallel('fan', { sum: add, name: label }).build()

    const result = await runFlow(both, 7)

    expect(result).toMatchObject({ status: 'completed', output: { sum: 8, name: '#7' } })
    expect(inputs).toEqual([7, 7])
  })

  it('a fault in one branch waits for the others, then compensates every completed step newest first', async () => {
    const clock = new FakeClock()
    const undone: { key: string; input: unknown; output: unknown; at: number }[] = []
    /** A step that takes `ms` of clock time and returns its name, undone with a record. */
    const timed = (name: string, ms: number) =>
      step(name, {
        run: async (input: string, ctx: StepContext) => {
          await clock.sleep(ms, ctx.signal)
          return `${input}>${name}`
        },
        compensate: (input: string, output: string, ctx: StepContext) => {
          undone.push({ key: ctx.step, input, output, at: clock.now() })
        },
      })
    const refuse = step('refuse', async (_: string, ctx: StepContext) => {
      await clock.sleep(5, ctx.signal)
      return Outcome.fault('refused', 'no thanks')
    })
    const fan = flow<string>('fan')
      .andThen(timed('before', 1))
      .parallel('fork', {
        slow: timed('slow', 30),
        failing: refuse,
        chain: flow<string>('chain').andThen(timed('c1', 10)).andThen(timed('c2', 10)).build(),
      })
      .build()
    const start = clock.now()

    const result = await runFlow(fan, 'in', { clock })

    expect(result).toMatchObject({ status: 'compensated', fault: { code: 'refused', message: 'no thanks' } })
    // slow finished (at 31) long after the fault (at 6): the branch was waited for, then undone first.
    expect(undone.map(({ key, input, output }) => ({ key, input, output }))).toEqual([
      { key: 'slow', input: 'in>before', output: 'in>before>slow' },
      { key: 'c2', input: 'in>before>c1', output: 'in>before>c1>c2' },
      { key: 'c1', input: 'in>before', output: 'in>before>c1' },
      { key: 'before', input: 'in', output: 'in>before' },
    ])
    expect(undone[0]!.at - start).toBe(31)
  })
})

describe('runFlow: map', () => {
  it('runs the body per element and keeps the input order, whatever order they finish in', async () => {
    const clock = new FakeClock()
    const square = step('square', async (n: number, ctx: StepContext) => {
      await clock.sleep(100 - n * 10, ctx.signal) // later elements finish first
      return n * n
    })
    const squares = flow<number[]>('squares').map('each', square).build()

    const result = await runFlow(squares, [1, 2, 3, 4], { clock })

    expect(result).toMatchObject({ status: 'completed', output: [1, 4, 9, 16] })
    const completed = result.timeline.filter((e) => e.type === 'step.completed').map((e) => e.step)
    expect(completed).toEqual(['square[3]', 'square[2]', 'square[1]', 'square[0]'])
  })

  it('runs at most `concurrency` bodies at once (default 8)', async () => {
    const clock = new FakeClock()
    let running = 0
    let most = 0
    const work = step('work', async (n: number, ctx: StepContext) => {
      running++
      most = Math.max(most, running)
      await clock.sleep(10 + (n % 3), ctx.signal)
      running--
      return n
    })
    const items = Array.from({ length: 20 }, (_, i) => i)

    const two = await runFlow(flow<number[]>('two').map('each', work, { concurrency: 2 }).build(), items, {
      clock,
    })
    expect(two).toMatchObject({ status: 'completed', output: items })
    expect(most).toBe(2)

    most = 0
    const eight = await runFlow(flow<number[]>('eight').map('each', work).build(), items, { clock })
    expect(eight).toMatchObject({ status: 'completed', output: items })
    expect(most).toBe(8)
  })

  it('keys each element step[i], in the timeline and the context', async () => {
    const keys: string[] = []
    const tag = step('tag', (s: string, ctx: StepContext) => {
      keys.push(`${ctx.step} ${ctx.idempotencyKey}`)
      return s.toUpperCase()
    })
    const result = await runFlow(
      flow<string[]>('tags').map('each', tag, { concurrency: 1 }).build(),
      ['a', 'b'],
      {
        runId: 'run-9',
      },
    )
    expect(result).toMatchObject({ status: 'completed', output: ['A', 'B'] })
    expect(keys).toEqual(['tag[0] run-9/tag[0]', 'tag[1] run-9/tag[1]'])
    expect(result.timeline.filter((e) => e.type === 'step.completed').map((e) => e.step)).toEqual([
      'tag[0]',
      'tag[1]',
    ])
  })

  it('a fault in one element starts no further elements and compensates those that completed', async () => {
    const started: number[] = []
    const undone: string[] = []
    const body = step('body', {
      run: (n: number) => {
        started.push(n)
        return n === 2 ? Outcome.fault('bad_item', `item ${n}`) : n
      },
      compensate: (_n: number, _out: number, ctx: StepContext) => {
        undone.push(ctx.step)
      },
    })
    const result = await runFlow(
      flow<number[]>('items').map('each', body, { concurrency: 1 }).build(),
      [0, 1, 2, 3],
    )
    expect(result).toMatchObject({ status: 'compensated', fault: { code: 'bad_item', message: 'item 2' } })
    expect(started).toEqual([0, 1, 2])
    expect(undone).toEqual(['body[1]', 'body[0]'])
  })

  it('a map whose input is not a list ends the run dead naming the map', async () => {
    const body = step('body', (n: number) => n)
    const result = await runFlow(flow<number[]>('items').map('each', body).build(), 'nope' as never)
    expect(result).toMatchObject({ status: 'dead', step: 'each' })
  })
})

describe('runFlow: sleep', () => {
  it('waits on the clock, then goes on with the same value', async () => {
    const clock = new FakeClock({ mode: 'manual' })
    const after: string[] = []
    const record = step('record', (s: string) => {
      after.push(s)
      return s
    })
    const napping = flow<string>('napping').sleep('nap', 1000).andThen(record).build()
    const start = clock.now()

    const running = runFlow(napping, 'hello', { clock })
    await settle()
    expect(clock.pending).toBe(1)
    await clock.advance(999)
    expect(after).toEqual([])
    await clock.advance(1)
    const result = await running

    expect(result).toMatchObject({ status: 'completed', output: 'hello' })
    expect(after).toEqual(['hello'])
    expect(clock.now() - start).toBe(1000)
    expect(result.timeline.find((e) => e.type === 'sleep.started')).toMatchObject({
      step: 'nap',
      data: { wakeAt: start + 1000 },
    })
  })

  it('computes the duration from the value when given a function', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const wait = flow<{ ms: number }>('wait')
      .sleep('nap', (v) => v.ms)
      .build()
    const result = await runFlow(wait, { ms: 2500 }, { clock })
    expect(result).toMatchObject({ status: 'completed', output: { ms: 2500 } })
    expect(clock.now() - start).toBe(2500)
  })
})

describe('runFlow: retries and timeouts', () => {
  it('retries a failing attempt with exponential delays on the clock until one succeeds', async () => {
    const clock = new FakeClock()
    const attempts: number[] = []
    const charge = step('charge', {
      retry: { maxAttempts: 4, initialDelayMs: 100, jitter: false },
      run: (n: number, ctx: StepContext) => {
        attempts.push(ctx.attempt)
        if (ctx.attempt < 4) throw new Error(`down ${ctx.attempt}`)
        return n
      },
    })
    const start = clock.now()

    const result = await runFlow(flow<number>('pay').andThen(charge).build(), 1, { clock })

    expect(result).toMatchObject({ status: 'completed', output: 1 })
    expect(attempts).toEqual([1, 2, 3, 4])
    expect(clock.sleeps).toEqual([100, 200, 400])
    expect(clock.now() - start).toBe(700)
    const failed = result.timeline.filter((e) => e.type === 'step.attempt_failed')
    expect(failed.map((e) => [e.attempt, e.error?.message, e.data])).toEqual([
      [1, 'down 1', { retryInMs: 100 }],
      [2, 'down 2', { retryInMs: 200 }],
      [3, 'down 3', { retryInMs: 400 }],
    ])
    expect(result.timeline.find((e) => e.type === 'step.completed')).toMatchObject({ attempt: 4 })
  })

  it('stops at once when retryOn refuses the error', async () => {
    const clock = new FakeClock()
    const refusal = new Error('invalid card')
    let calls = 0
    const charge = step('charge', {
      retry: { maxAttempts: 5, retryOn: (error) => error !== refusal },
      run: () => {
        calls++
        throw refusal
      },
    })
    const result = await runFlow(flow<number>('pay').andThen(charge).build(), 1, { clock })
    expect(result).toMatchObject({ status: 'dead', step: 'charge', phase: 'forward' })
    expect(result.status === 'dead' && result.error).toBe(refusal)
    expect(calls).toBe(1)
    expect(clock.sleeps).toEqual([])
  })

  it('a step that fails on every attempt ends the run dead, naming the step, with the last error', async () => {
    const clock = new FakeClock()
    const reserve = step('reserve', (n: number) => n)
    const charge = step('charge', {
      retry: { maxAttempts: 3, jitter: false },
      run: (_: number, ctx: StepContext): number => {
        throw new Error(`down ${ctx.attempt}`)
      },
    })
    const result = await runFlow(flow<number>('pay').andThen(reserve).andThen(charge).build(), 1, { clock })

    expect(result).toMatchObject({ status: 'dead', step: 'charge', phase: 'forward' })
    expect(result.status === 'dead' && (result.error as Error).message).toBe('down 3')
    expect(typesOf(result.timeline, 'charge')).toEqual([
      'step.attempt_failed',
      'step.attempt_failed',
      'step.dead',
      'run.dead',
    ])
    expect(result.timeline.find((e) => e.type === 'step.dead')).toMatchObject({
      attempt: 3,
      error: { message: 'down 3' },
    })
    expect(result.timeline.at(-1)).toMatchObject({ type: 'run.dead', data: { phase: 'forward' } })
  })

  it('timeoutMs aborts ctx.signal with KEEL_POLICY_TIMEOUT and counts as a failed attempt', async () => {
    const clock = new FakeClock()
    const reasons: unknown[] = []
    const lookup = step('lookup', {
      timeoutMs: 50,
      retry: { maxAttempts: 2, initialDelayMs: 10, jitter: false },
      run: async (n: number, ctx: StepContext) => {
        if (ctx.attempt === 1) {
          ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason))
          await clock.sleep(1000, ctx.signal) // too slow: the timeout wins
        }
        return n * 2
      },
    })
    const start = clock.now()

    const result = await runFlow(flow<number>('find').andThen(lookup).build(), 21, { clock })

    expect(result).toMatchObject({ status: 'completed', output: 42 })
    expect(reasons).toHaveLength(1)
    expect(reasons[0]).toBeInstanceOf(KeelError)
    expect(reasons[0]).toMatchObject({ code: 'KEEL_POLICY_TIMEOUT', status: 504 })
    expect(result.timeline.find((e) => e.type === 'step.attempt_failed')).toMatchObject({
      step: 'lookup',
      attempt: 1,
      error: { code: 'KEEL_POLICY_TIMEOUT', message: 'step "lookup" did not finish within 50 ms' },
    })
    // 50 ms of timeout and 10 ms of retry delay; the abandoned 1 s sleep never moved time.
    expect(clock.now() - start).toBe(60)
  })

  it('a step that times out on every attempt goes dead with the timeout error', async () => {
    const clock = new FakeClock()
    const stuck = step('stuck', {
      timeoutMs: 20,
      retry: { maxAttempts: 2, jitter: false },
      run: () => new Promise<number>(() => {}), // ignores its signal, never settles
    })
    const result = await runFlow(flow<number>('stuck').andThen(stuck).build(), 1, { clock })
    expect(result).toMatchObject({ status: 'dead', step: 'stuck' })
    expect(result.status === 'dead' && result.error).toMatchObject({ code: 'KEEL_POLICY_TIMEOUT' })
  })
})

describe('runFlow: faults and compensation', () => {
  /** reserve → charge → ship, each recording its compensation with input and output. */
  function saga(ship: StepOptions<{ id: string }, unknown>) {
    const undone: unknown[] = []
    const compensable = <I, O>(name: string, run: (input: I) => O) =>
      step(name, {
        run,
        compensate: (input: I, output: O, ctx: StepContext) => {
          undone.push({ key: ctx.step, input, output })
        },
      })
    const reserve = compensable('reserve', (order: { id: string }) => ({ id: order.id, reservation: 'r-1' }))
    const note = step('note', (order: { id: string; reservation: string }) => order) // nothing to undo
    const charge = compensable('charge', (order: { id: string; reservation: string }) => ({ id: order.id }))
    const order = flow<{ id: string }>('order')
      .andThen(reserve)
      .andThen(note)
      .andThen(charge)
      .andThen(step('ship', ship))
      .build()
    return { order, undone }
  }

  it('a fault is never retried and compensates the completed steps newest first, with input and output', async () => {
    let shipCalls = 0
    const { order, undone } = saga({
      retry: { maxAttempts: 5 },
      run: () => {
        shipCalls++
        return Outcome.fault('no_carrier', 'no carrier today', { region: 'eu' })
      },
    })

    const result = await runFlow(order, { id: 'o1' }, { clock: new FakeClock() })

    expect(result).toMatchObject({
      status: 'compensated',
      fault: { code: 'no_carrier', message: 'no carrier today', details: { region: 'eu' } },
    })
    expect(shipCalls).toBe(1)
    expect(undone).toEqual([
      { key: 'charge', input: { id: 'o1', reservation: 'r-1' }, output: { id: 'o1' } },
      { key: 'reserve', input: { id: 'o1' }, output: { id: 'o1', reservation: 'r-1' } },
    ])
    expect(typesOf(result.timeline).slice(-6)).toEqual([
      'step.completed',
      'step.faulted',
      'compensation.started',
      'step.compensated',
      'step.compensated',
      'run.compensated',
    ])
  })

  it('retries a failing compensation, and a compensation that keeps failing ends the run dead', async () => {
    const clock = new FakeClock()
    const tries: number[] = []
    const reserve = step('reserve', {
      retry: { maxAttempts: 3, jitter: false },
      run: (n: number) => n,
      compensate: (_n: number, _out: number, ctx: StepContext) => {
        tries.push(ctx.attempt)
        throw new Error(`release failed ${ctx.attempt}`)
      },
    })
    const refuse = step('refuse', () => Outcome.fault('refused'))
    const result = await runFlow(flow<number>('order').andThen(reserve).andThen(refuse).build(), 1, { clock })

    expect(result).toMatchObject({ status: 'dead', step: 'reserve', phase: 'compensation' })
    expect(result.status === 'dead' && (result.error as Error).message).toBe('release failed 3')
    expect(tries).toEqual([1, 2, 3])
    expect(clock.sleeps).toEqual([100, 200])
    expect(typesOf(result.timeline, 'reserve').filter((t) => t.startsWith('compensation'))).toEqual([
      'compensation.attempt_failed',
      'compensation.attempt_failed',
    ])
    expect(result.timeline.at(-1)).toMatchObject({ type: 'run.dead', data: { phase: 'compensation' } })
  })

  it('a compensation that succeeds on a retry ends the run compensated', async () => {
    let tries = 0
    const reserve = step('reserve', {
      run: (n: number) => n,
      compensate: () => {
        if (++tries === 1) throw new Error('flaky')
      },
    })
    const refuse = step('refuse', () => Outcome.fault('refused'))
    const result = await runFlow(flow<number>('order').andThen(reserve).andThen(refuse).build(), 1, {
      clock: new FakeClock(),
    })
    expect(result).toMatchObject({ status: 'compensated', fault: { code: 'refused', message: 'refused' } })
    expect(tries).toBe(2)
  })
})

describe('runFlow: context', () => {
  it('ctx.idempotencyKey is <runId>/<step key>, the same on every attempt', async () => {
    const keys: string[] = []
    const charge = step('charge', {
      retry: { maxAttempts: 3 },
      run: (n: number, ctx: StepContext) => {
        keys.push(ctx.idempotencyKey)
        if (ctx.attempt < 3) throw new Error('flaky')
        return n
      },
    })
    const result = await runFlow(flow<number>('pay').andThen(charge).build(), 1, {
      runId: 'run-42',
      clock: new FakeClock(),
    })
    expect(result.status).toBe('completed')
    expect(keys).toEqual(['run-42/charge', 'run-42/charge', 'run-42/charge'])
  })

  it('ctx carries the run id, the flow name and the step', async () => {
    let seen: Partial<StepContext> = {}
    const look = step('look', (n: number, ctx: StepContext) => {
      seen = { runId: ctx.runId, flow: ctx.flow, step: ctx.step, attempt: ctx.attempt }
      return n
    })
    await runFlow(flow<number>('peek').andThen(look).build(), 1, { runId: 'r-7' })
    expect(seen).toEqual({ runId: 'r-7', flow: 'peek', step: 'look', attempt: 1 })
  })

  it('ctx.get reads values from the bus', async () => {
    const Tenant = busKey<string>('tenant')
    const read = step('read', (n: number, ctx: StepContext) => `${ctx.get(Tenant)}:${n}:${ctx.has(Tenant)}`)
    const result = await runFlow(flow<number>('read').andThen(read).build(), 1, {
      bus: Bus.empty.with(Tenant, 'acme'),
    })
    expect(result).toMatchObject({ status: 'completed', output: 'acme:1:true' })
  })

  it('ctx.get of a key nobody provided fails the step at once, naming the key', async () => {
    const Payments = busKey<{ charge(): string }>('payments')
    let calls = 0
    const charge = step('charge', {
      retry: { maxAttempts: 5 },
      run: (_: number, ctx: StepContext) => {
        calls++
        return ctx.get(Payments).charge()
      },
    })
    const clock = new FakeClock()
    const result = await runFlow(flow<number>('pay').andThen(charge).build(), 1, { clock })

    expect(result).toMatchObject({ status: 'dead', step: 'charge' })
    const error = result.status === 'dead' ? result.error : undefined
    expect(isKeelError(error) && error.code).toBe('KEEL_FLOW_BUS_MISSING')
    expect((error as Error).message).toContain('"payments"')
    // A missing key is a wiring mistake: another attempt cannot find it.
    expect(calls).toBe(1)
    expect(clock.sleeps).toEqual([])
  })
})

describe('runFlow: input and cancellation', () => {
  const Order = Type.Object({
    id: Type.String(),
    items: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer({ minimum: 1 }) })),
  })

  it('rejects input its schema refuses with KEEL_FLOW_INPUT (422), listing JSON pointers, before any step runs', async () => {
    let ran = false
    const reserve = step('reserve', (order: { id: string }) => {
      ran = true
      return order
    })
    // The explicit type keeps tsc out of the schema-inferring overload, which it cannot finish here.
    const order = flow<Static<typeof Order>>('order', { input: Order }).andThen(reserve).build()

    const error = await runFlow(order, { id: 'o1', items: [{ sku: 'a', qty: 0 }] }).catch((e: unknown) => e)

    expect(isHttpError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'KEEL_FLOW_INPUT', status: 422 })
    const violations = (error as { extensions: { violations: { pointer: string }[] } }).extensions.violations
    expect(violations.map((v) => v.pointer)).toEqual(['/input/items/0/qty'])
    expect((error as Error).message).toContain('flow "order" does not accept this input: /input/items/0/qty')
    expect(ran).toBe(false)

    const missing = await runFlow(order, { items: [] } as never).catch((e: unknown) => e)
    expect((missing as { extensions: { violations: { pointer: string }[] } }).extensions.violations).toEqual(
      expect.arrayContaining([expect.objectContaining({ pointer: '/input/id' })]),
    )
    expect(await runFlow(order, { id: 'o2', items: [{ sku: 'a', qty: 1 }] })).toMatchObject({
      status: 'completed',
    })
  })

  it('aborting the run aborts the running step and runs nothing further', async () => {
    const clock = new FakeClock({ mode: 'manual' })
    const controller = new AbortController()
    let stepSignal: AbortSignal | undefined
    let nextRan = false
    const slow = step('slow', async (n: number, ctx: StepContext) => {
      stepSignal = ctx.signal
      await clock.sleep(10_000, ctx.signal)
      return n
    })
    const next = step('next', (n: number) => {
      nextRan = true
      return n
    })
    const reason = new Error('shutting down')

    const running = runFlow(flow<number>('long').andThen(slow).andThen(next).build(), 1, {
      clock,
      signal: controller.signal,
    })
    await settle()
    controller.abort(reason)

    await expect(running).rejects.toBe(reason)
    expect(stepSignal?.aborted).toBe(true)
    expect(stepSignal?.reason).toBe(reason)
    expect(nextRan).toBe(false)
    expect(clock.pending).toBe(0)
  })

  it('a step that ignores the abort does not let the next step start', async () => {
    const controller = new AbortController()
    let nextRan = false
    const stubborn = step('stubborn', (n: number) => {
      controller.abort(new Error('cancelled'))
      return n // finishes anyway
    })
    const next = step('next', (n: number) => {
      nextRan = true
      return n
    })
    const running = runFlow(flow<number>('long').andThen(stubborn).andThen(next).build(), 1, {
      signal: controller.signal,
    })
    await expect(running).rejects.toThrow('cancelled')
    expect(nextRan).toBe(false)
  })

  it('aborting during a retry delay stops the retries', async () => {
    const clock = new FakeClock({ mode: 'manual' })
    const controller = new AbortController()
    let calls = 0
    const flaky = step('flaky', {
      retry: { maxAttempts: 5, jitter: false },
      run: () => {
        calls++
        throw new Error('down')
      },
    })
    const running = runFlow(flow<number>('f').andThen(flaky).build(), 1, { clock, signal: controller.signal })
    await settle()
    expect(clock.pending).toBe(1) // waiting 100 ms before attempt 2
    controller.abort(new Error('stop'))
    await expect(running).rejects.toThrow('stop')
    expect(calls).toBe(1)
  })
})

describe('runFlow: beforeStep', () => {
  const seen: string[] = []
  const record = (name: string) =>
    step(name, (n: number) => {
      seen.push(name)
      return n + 1
    })
  const counting = flow<number>('counting').andThen(record('one')).andThen(record('two')).build()

  it('holds each step until its gate settles, and sees the run, the step and its input', async () => {
    seen.length = 0
    const controller = new AbortController()
    const at: StepAt[] = []
    let open: () => void = () => {}
    const running = runFlow(counting, 1, {
      runId: 'gated',
      signal: controller.signal,
      beforeStep: (where) => {
        at.push(where)
        if (where.step === 'two') return new Promise<void>((resolve) => (open = resolve))
      },
    })
    await settle()
    expect(seen).toEqual(['one']) // held before two
    open()
    expect(await running).toMatchObject({ status: 'completed', output: 3 })
    expect(seen).toEqual(['one', 'two'])
    expect(at.map(({ signal, ...rest }) => rest)).toEqual([
      { runId: 'gated', flow: 'counting', step: 'one', key: 'one', input: 1 },
      { runId: 'gated', flow: 'counting', step: 'two', key: 'two', input: 2 },
    ])
    expect(at[0]?.signal).toBe(controller.signal)
  })

  it("rejects with the gate's reason, runs nothing further and compensates nothing", async () => {
    seen.length = 0
    let undone = false
    const reserve = step('reserve', {
      run: (n: number) => n,
      compensate: () => {
        undone = true
      },
    })
    const refused = flow<number>('refused').andThen(reserve).andThen(record('two')).build()
    const reason = new Error('not now')
    const running = runFlow(refused, 1, {
      beforeStep: (where) => (where.step === 'two' ? Promise.reject(reason) : undefined),
    })
    await expect(running).rejects.toBe(reason)
    expect(seen).toEqual([])
    expect(undone).toBe(false)
  })

  it("ends a held run when the run's signal aborts, before the step runs", async () => {
    seen.length = 0
    const controller = new AbortController()
    const running = runFlow(counting, 1, {
      signal: controller.signal,
      beforeStep: ({ signal }) =>
        new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    })
    await settle()
    controller.abort(new Error('gave up'))
    await expect(running).rejects.toThrow('gave up')
    expect(seen).toEqual([])
  })
})

describe('runFlow: metrics', () => {
  /** The value of one series, read from the registry's text exposition. */
  async function sample(registry: Registry, name: string, labels: Record<string, string>) {
    const samples = parsePrometheusText(await registry.metrics())
    const found = findSamples(samples, name, labels)
    expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1)
    return found[0]!.value
  }

  it('counts step attempts by outcome, their durations, runs by status and active runs', async () => {
    const registry = new Registry()
    const clock = new FakeClock({ mode: 'manual' })
    let active = Number.NaN
    const flaky = step('flaky', {
      retry: { maxAttempts: 2, initialDelayMs: 10, jitter: false },
      run: (n: number, ctx: StepContext) => {
        if (ctx.attempt === 1) throw new Error('flaky')
        return n
      },
    })
    const probe = step('probe', async (n: number) => {
      active = await sample(registry, 'keel_flow_runs_active', { flow: 'pay' })
      return n > 0 ? n : Outcome.fault('negative')
    })
    const pay = flow<number>('pay').andThen(flaky).andThen(probe).build()

    const running = runFlow(pay, 1, { registry, clock })
    await settle()
    expect(await sample(registry, 'keel_flow_runs_active', { flow: 'pay' })).toBe(1)
    await clock.advance(10)
    expect(await running).toMatchObject({ status: 'completed' })
    expect(active).toBe(1)
    const faulted = runFlow(pay, -1, { registry, clock })
    await settle()
    await clock.advance(10)
    expect(await faulted).toMatchObject({ status: 'compensated' })

    const runs = (outcome: string, stepName = 'flaky') =>
      sample(registry, 'keel_flow_step_runs_total', { flow: 'pay', step: stepName, outcome })
    expect(await runs('failed')).toBe(2)
    expect(await runs('completed')).toBe(2)
    expect(await runs('completed', 'probe')).toBe(1)
    expect(await runs('faulted', 'probe')).toBe(1)
    expect(
      await sample(registry, 'keel_flow_step_duration_seconds_count', { flow: 'pay', step: 'flaky' }),
    ).toBe(4)
    expect(
      await sample(registry, 'keel_flow_step_duration_seconds_count', { flow: 'pay', step: 'probe' }),
    ).toBe(2)
    expect(await sample(registry, 'keel_flow_runs_total', { flow: 'pay', status: 'completed' })).toBe(1)
    expect(await sample(registry, 'keel_flow_runs_total', { flow: 'pay', status: 'compensated' })).toBe(1)
    expect(await sample(registry, 'keel_flow_runs_active', { flow: 'pay' })).toBe(0)
  })

  it('counts dead steps and dead runs', async () => {
    const registry = new Registry()
    const broken = step('broken', {
      retry: { maxAttempts: 2 },
      run: (): number => {
        throw new Error('down')
      },
    })
    const result = await runFlow(flow<number>('fix').andThen(broken).build(), 1, {
      registry,
      clock: new FakeClock(),
    })
    expect(result.status).toBe('dead')
    expect(await sample(registry, 'keel_flow_step_dead_total', { flow: 'fix', step: 'broken' })).toBe(1)
    expect(await sample(registry, 'keel_flow_runs_total', { flow: 'fix', status: 'dead' })).toBe(1)
    expect(await sample(registry, 'keel_flow_runs_active', { flow: 'fix' })).toBe(0)
  })
})

describe('runFlow: spans', () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const tracer = provider.getTracer('flow-test')

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  })
  afterAll(async () => {
    context.disable()
    await provider.shutdown()
  })

  it('makes one `flow <name>` span with a child per step attempt, failed attempts in error', async () => {
    exporter.reset()
    const reserve = step('reserve', {
      run: (n: number) => n,
      compensate: () => {},
    })
    const charge = step('charge', {
      retry: { maxAttempts: 2, jitter: false },
      run: (n: number, ctx: StepContext) => {
        if (ctx.attempt === 1) throw new Error('card service down')
        // The step's own spans nest under its attempt's span.
        tracer.startSpan('card api').end()
        return n
      },
    })
    const ship = step('ship', () => Outcome.fault('no_carrier'))
    const order = flow<number>('order').andThen(reserve).andThen(charge).andThen(ship).build()

    const result = await runFlow(order, 1, { tracer, runId: 'run-1', clock: new FakeClock() })

    expect(result.status).toBe('compensated')
    const spans = exporter.getFinishedSpans()
    const root = spans.find((s) => s.name === 'flow order')!
    expect(root).toBeDefined()
    expect(root.attributes).toMatchObject({ 'keel.flow': 'order', 'keel.flow.run_id': 'run-1' })
    const children = spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId)
    expect(
      children.map((s) => [
        s.name,
        s.attributes['keel.flow.step'],
        s.attributes['keel.flow.attempt'],
        s.status.code,
      ]),
    ).toEqual([
      ['step reserve', 'reserve', 1, SpanStatusCode.UNSET],
      ['step charge', 'charge', 1, SpanStatusCode.ERROR],
      ['step charge', 'charge', 2, SpanStatusCode.UNSET],
      ['step ship', 'ship', 1, SpanStatusCode.UNSET],
      ['compensate reserve', 'reserve', 1, SpanStatusCode.UNSET],
    ])
    const failed = children[1]!
    expect(failed.events.find((e) => e.name === 'exception')?.attributes).toMatchObject({
      'exception.message': 'card service down',
    })
    const api = spans.find((s) => s.name === 'card api')!
    expect(api.parentSpanContext?.spanId).toBe(children[2]!.spanContext().spanId)
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1)
  })

  it('marks the flow span in error when the run goes dead', async () => {
    exporter.reset()
    const broken = step('broken', {
      retry: { maxAttempts: 1 },
      run: (): number => {
        throw new Error('down')
      },
    })
    const result = await runFlow(flow<number>('fix').andThen(broken).build(), 1, { tracer })
    expect(result.status).toBe('dead')
    const root = exporter.getFinishedSpans().find((s) => s.name === 'flow fix')!
    expect(root.status.code).toBe(SpanStatusCode.ERROR)
  })

  it("nests the flow span under the caller's active span", async () => {
    exporter.reset()
    const noop = step('noop', (n: number) => n)
    await tracer.startActiveSpan('request', async (span) => {
      await runFlow(flow<number>('inner').andThen(noop).build(), 1, { tracer })
      span.end()
    })
    const spans = exporter.getFinishedSpans()
    const request = spans.find((s) => s.name === 'request')!
    expect(spans.find((s) => s.name === 'flow inner')?.parentSpanContext?.spanId).toBe(
      request.spanContext().spanId,
    )
    expect(trace.getActiveSpan()).toBeUndefined()
  })
})

describe('a step under a resilience policy', () => {
  it('fails attempts fast while its circuit is open, and the schematic names the policy', async () => {
    const breaker = circuitBreaker({ name: 'payments', halfOpenAfterMs: 60_000, breaker: { consecutive: 2 } })
    let calls = 0
    const charge = step('charge', {
      policy: breaker,
      retry: { maxAttempts: 4, initialDelayMs: 1, jitter: false },
      run: async () => {
        calls++
        throw new Error('payment provider down')
      },
    })
    const payFlow = flow<number>('pay-through-breaker').andThen(charge).build()
    const result = await runFlow(payFlow, 1, { clock: new FakeClock() })
    expect(result.status).toBe('dead')
    // Two real calls open the circuit; the last two attempts are refused without calling.
    expect(calls).toBe(2)
    expect(breaker.state).toBe('open')
    if (result.status === 'dead') expect((result.error as { code?: string }).code).toBe('KEEL_CIRCUIT_OPEN')
    expect(payFlow.describe().nodes.find((n) => n.id === 'charge')?.policy).toBe('payments')
  })
})
