import { AssertionError } from 'node:assert'
import { Bus, busKey, FakeClock, flow, Outcome, type StepContext, step, testFlow } from 'keel/flow'
import { describe, expect, it } from 'vitest'

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('FakeClock', () => {
  it('manual: a sleep resolves once time is advanced to its deadline', async () => {
    const clock = new FakeClock({ mode: 'manual', now: 5_000 })
    let done = false
    const sleeping = clock.sleep(100).then(() => {
      done = true
    })
    await clock.advance(99)
    expect(done).toBe(false)
    expect(clock.pending).toBe(1)
    await clock.advance(1)
    await sleeping
    expect(done).toBe(true)
    expect(clock.now()).toBe(5_100)
    expect(clock.pending).toBe(0)
  })

  it('manual: advance wakes sleepers in deadline order, and sleeps they chain within the window', async () => {
    const clock = new FakeClock({ mode: 'manual', now: 0 })
    const woke: string[] = []
    const at = (label: string) => () => woke.push(`${label}@${clock.now()}`)
    void clock.sleep(30).then(at('c'))
    void clock
      .sleep(10)
      .then(at('a'))
      .then(() => clock.sleep(10))
      .then(at('b'))
      .then(() => clock.sleep(25))
      .then(at('late'))

    await clock.advance(30)

    expect(woke).toEqual(['a@10', 'b@20', 'c@30'])
    expect(clock.now()).toBe(30)
    expect(clock.pending).toBe(1) // `late` is due at 45
    await clock.advance(15)
    expect(woke.at(-1)).toBe('late@45')
  })

  it('rejects a sleep with the signal reason when it aborts, and forgets it', async () => {
    const clock = new FakeClock({ mode: 'manual' })
    const controller = new AbortController()
    const reason = new Error('cancelled')
    const sleeping = clock.sleep(1000, controller.signal)
    controller.abort(reason)
    await expect(sleeping).rejects.toBe(reason)
    expect(clock.pending).toBe(0)
    await expect(clock.sleep(10, AbortSignal.abort(reason))).rejects.toBe(reason)
  })

  it('auto (the default): a sleep resolves on its own, time jumping to its deadline', async () => {
    const clock = new FakeClock({ now: 1_000 })
    expect(clock.mode).toBe('auto')
    await clock.sleep(60_000)
    expect(clock.now()).toBe(61_000)
    await clock.sleep(500)
    await clock.sleep(500)
    expect(clock.now()).toBe(62_000)
    expect(clock.sleeps).toEqual([60_000, 500, 500])
  })

  it('auto: of racing sleeps the earliest deadline wakes first, whichever was asked for first', async () => {
    const clock = new FakeClock({ now: 0 })
    const woke: string[] = []
    const long = clock.sleep(1000).then(() => woke.push(`long@${clock.now()}`))
    const short = clock.sleep(50).then(() => woke.push(`short@${clock.now()}`))
    await Promise.all([long, short])
    expect(woke).toEqual(['short@50', 'long@1000'])
  })

  it('auto: a sleep aborted before it wakes does not move time', async () => {
    const clock = new FakeClock({ now: 0 })
    const controller = new AbortController()
    const abandoned = clock.sleep(1000, controller.signal).catch(() => 'aborted')
    controller.abort()
    expect(await abandoned).toBe('aborted')
    await settle()
    expect(clock.now()).toBe(0)
  })

  it('refuses to advance by a negative or unknown amount', async () => {
    const clock = new FakeClock()
    await expect(clock.advance(-1)).rejects.toThrow(RangeError)
    await expect(clock.advance(Number.NaN)).rejects.toThrow('FakeClock.advance: ms must be >= 0 (got NaN)')
  })
})

/** reserve → charge → ship, the first two compensable; `calls` counts real runs of each step. */
function orderFlow() {
  const calls: Record<string, number> = {}
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1
  }
  const compensable = (name: string) =>
    step(name, {
      retry: { maxAttempts: 3, jitter: false },
      run: (order: { id: string }) => {
        count(name)
        return order
      },
      compensate: () => {},
    })
  const ship = step('ship', (order: { id: string }) => {
    count('ship')
    return Outcome.emit('order.shipped', { id: order.id }, { ...order, shipped: true })
  })
  const order = flow<{ id: string }>('order')
    .andThen(compensable('reserve'))
    .andThen(compensable('charge'))
    .andThen(ship)
    .build()
  return { order, calls }
}

describe('testFlow', () => {
  it('reports the path, attempts and emitted events of a run that completed', async () => {
    const { order } = orderFlow()
    const run = await testFlow(order, { id: 'o1' })

    expect(run).toMatchObject({ status: 'completed', output: { id: 'o1', shipped: true } })
    expect(run.path).toEqual(['reserve', 'charge', 'ship'])
    expect(run.compensated).toEqual([])
    expect(run.attempts).toEqual({ reserve: 1, charge: 1, ship: 1 })
    expect(run.emitted).toEqual([{ step: 'ship', event: 'order.shipped', payload: { id: 'o1' } }])
    run.expectPath('reserve', 'charge', 'ship')
    run.expectCompensated()
  })

  it('runs on an auto fake clock by default: sleeps and retry delays take no real time', async () => {
    const flaky = step('flaky', {
      retry: { maxAttempts: 3, initialDelayMs: 10_000, jitter: false },
      run: (n: number, ctx: StepContext) => {
        if (ctx.attempt < 3) throw new Error('not yet')
        return n
      },
    })
    const slow = flow<number>('slow').sleep('day', 86_400_000).andThen(flaky).build()

    const run = await testFlow(slow, 1)

    expect(run.status).toBe('completed')
    const started = run.timeline[0]!.at
    const ended = run.timeline.at(-1)!.at
    expect(ended - started).toBe(86_400_000 + 10_000 + 20_000)
    expect(run.attempts).toEqual({ flaky: 3 })
  })

  it('uses the clock it is given', async () => {
    const clock = new FakeClock({ now: 0 })
    await testFlow(flow<number>('nap').sleep('nap', 250).build(), 1, { clock })
    expect(clock.now()).toBe(250)
  })

  it('injects an error into the first `times` attempts of a step, so its retries apply', async () => {
    const { order, calls } = orderFlow()
    const reset = new Error('ECONNRESET')

    const run = await testFlow(order, { id: 'o1' }, { faults: { charge: { error: reset, times: 2 } } })

    expect(run.status).toBe('completed')
    expect(run.attempts.charge).toBe(3)
    expect(calls.charge).toBe(1) // the two injected attempts never reached the step
    const failed = run.timeline.filter((e) => e.type === 'step.attempt_failed')
    expect(failed.map((e) => [e.step, e.attempt, e.error?.message])).toEqual([
      ['charge', 1, 'ECONNRESET'],
      ['charge', 2, 'ECONNRESET'],
    ])
  })

  it('injects the error into every attempt by default: the step goes dead', async () => {
    const { order, calls } = orderFlow()
    const down = new Error('payments down')

    const run = await testFlow(order, { id: 'o1' }, { faults: { charge: { error: down } } })

    expect(run).toMatchObject({ status: 'dead', step: 'charge', phase: 'forward' })
    expect(run.status === 'dead' && run.error).toBe(down)
    expect(run.attempts).toEqual({ reserve: 1, charge: 3 })
    expect(calls.charge).toBeUndefined()
    run.expectPath('reserve')
  })

  it('injects a typed fault: never retried, it compensates what completed', async () => {
    const { order, calls } = orderFlow()

    const run = await testFlow(
      order,
      { id: 'o1' },
      {
        faults: {
          ship: { fault: { code: 'no_carrier', message: 'no carrier today', details: { zone: 3 } } },
        },
      },
    )

    expect(run).toMatchObject({
      status: 'compensated',
      fault: { code: 'no_carrier', message: 'no carrier today', details: { zone: 3 } },
    })
    expect(run.attempts.ship).toBe(1)
    expect(calls.ship).toBeUndefined()
    run.expectPath('reserve', 'charge')
    run.expectCompensated('charge', 'reserve')
  })

  it('a fault without a message uses its code, as Outcome.fault does', async () => {
    const { order } = orderFlow()
    const run = await testFlow(order, { id: 'o1' }, { faults: { reserve: { fault: { code: 'sold_out' } } } })
    expect(run).toMatchObject({ status: 'compensated', fault: { code: 'sold_out', message: 'sold_out' } })
    expect(run.status === 'compensated' && 'details' in run.fault).toBe(false)
    run.expectCompensated()
  })

  it('counts `times` across the items of a map', async () => {
    const double = step('double', (n: number) => n * 2)
    const all = flow<number[]>('all').map('each', double, { concurrency: 1 }).build()

    const run = await testFlow(all, [1, 2, 3], { faults: { double: { error: new Error('blip'), times: 1 } } })

    expect(run).toMatchObject({ status: 'completed', output: [2, 4, 6] })
    expect(run.attempts).toEqual({ 'double[0]': 2, 'double[1]': 1, 'double[2]': 1 })
    run.expectPath('double[0]', 'double[1]', 'double[2]')
  })

  it('refuses faults for a step the flow does not have', async () => {
    const { order } = orderFlow()
    await expect(
      testFlow(order, { id: 'o1' }, { faults: { chrage: { error: new Error('x') } } }),
    ).rejects.toThrow('testFlow: faults name step "chrage", which flow "order" lacks (reserve, charge, ship)')
  })

  it('passes the bus, run id and event listener through to the run', async () => {
    const Tenant = busKey<string>('tenant')
    const who = step('who', (_: number, ctx: StepContext) => `${ctx.get(Tenant)} ${ctx.idempotencyKey}`)
    const events: string[] = []
    const tell = step('tell', (s: string) => Outcome.emit('told', s, s))
    const run = await testFlow(flow<number>('who').andThen(who).andThen(tell).build(), 1, {
      bus: Bus.empty.with(Tenant, 'acme'),
      runId: 'r-1',
      onEvent: (event) => events.push(event),
    })
    expect(run).toMatchObject({ status: 'completed', runId: 'r-1', output: 'acme r-1/who' })
    expect(events).toEqual(['told'])
  })

  it('expectPath throws an AssertionError showing the expected and actual paths and how the run ended', async () => {
    const { order } = orderFlow()
    const run = await testFlow(order, { id: 'o1' }, { faults: { ship: { fault: { code: 'no_carrier' } } } })

    let thrown: unknown
    try {
      run.expectPath('reserve', 'charge', 'ship')
    } catch (error) {
      thrown = error
    }

    expect(thrown).toBeInstanceOf(AssertionError)
    expect((thrown as Error).message).toBe(
      [
        'expected path: reserve → charge → ship',
        '  actual path: reserve → charge',
        '  the run was compensated after fault "no_carrier": no_carrier',
      ].join('\n'),
    )
    expect(thrown).toMatchObject({ actual: ['reserve', 'charge'], expected: ['reserve', 'charge', 'ship'] })
  })

  it('expectCompensated shows (none) for an empty list, and a dead run its step and error', async () => {
    const { order } = orderFlow()
    const run = await testFlow(
      order,
      { id: 'o1' },
      { faults: { charge: { error: new Error('payments down') } } },
    )

    expect(() => run.expectCompensated('reserve')).toThrow(
      [
        'expected compensated: reserve',
        '  actual compensated: (none)',
        '  the run went dead at step "charge": payments down',
      ].join('\n'),
    )
  })
})
