import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { bulkhead, circuitBreaker, retry, timeout } from 'keel/resilience'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deferred, FakeClock, settle } from './fake-clock.ts'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('resilience-test')

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
})
afterAll(async () => {
  context.disable()
  await provider.shutdown()
})
beforeEach(() => {
  exporter.reset()
})

/** Runs `body` inside an active span and returns that span's events once it ended. */
async function eventsOf(body: () => Promise<unknown>): Promise<ReadableSpan['events']> {
  await tracer.startActiveSpan('call', async (span) => {
    try {
      await body()
    } finally {
      span.end()
    }
  })
  const [span] = exporter.getFinishedSpans()
  return span!.events
}

const failing = () => {
  throw new Error('down')
}

describe('span events', () => {
  it('retry adds keel.retry per retry and keel.retry.gave_up at the end', async () => {
    const policy = retry({ name: 'geo', maxAttempts: 3, jitter: false, clock: new FakeClock() })
    const events = await eventsOf(() => policy.execute(failing).catch(() => {}))
    expect(events.map((e) => ({ name: e.name, attributes: e.attributes }))).toEqual([
      {
        name: 'keel.retry',
        attributes: {
          'keel.policy': 'geo',
          'keel.retry.attempt': 1,
          'keel.retry.delay_ms': 100,
          'error.type': 'Error',
        },
      },
      {
        name: 'keel.retry',
        attributes: {
          'keel.policy': 'geo',
          'keel.retry.attempt': 2,
          'keel.retry.delay_ms': 200,
          'error.type': 'Error',
        },
      },
      {
        name: 'keel.retry.gave_up',
        attributes: { 'keel.policy': 'geo', 'keel.retry.attempts': 3, 'error.type': 'Error' },
      },
    ])
  })

  it('timeout adds keel.timeout at the deadline', async () => {
    const clock = new FakeClock('manual')
    const policy = timeout(250, { name: 'inventory', clock })
    const events = await eventsOf(async () => {
      const call = policy.execute(() => new Promise(() => {})).catch(() => {})
      await settle()
      await clock.advance(250)
      await call
    })
    expect(events.map((e) => [e.name, e.attributes])).toEqual([
      ['keel.timeout', { 'keel.policy': 'inventory', 'keel.timeout.ms': 250 }],
    ])
  })

  it('circuit breaker adds keel.circuit.state_change and keel.circuit.rejected', async () => {
    const policy = circuitBreaker({
      name: 'payments',
      halfOpenAfterMs: 1_000,
      breaker: { consecutive: 1 },
      clock: new FakeClock(),
    })
    const events = await eventsOf(async () => {
      await policy.execute(failing).catch(() => {})
      await policy.execute(() => 'refused').catch(() => {})
    })
    expect(events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'keel.circuit.state_change',
        {
          'keel.policy': 'payments',
          'keel.circuit.from': 'closed',
          'keel.circuit.to': 'open',
          'error.type': 'Error',
        },
      ],
      ['keel.circuit.rejected', { 'keel.policy': 'payments', 'keel.circuit.state': 'open' }],
    ])
  })

  it('bulkhead adds keel.bulkhead.rejected', async () => {
    const policy = bulkhead({ name: 'reports', concurrency: 1 })
    const gate = deferred()
    const events = await eventsOf(async () => {
      const running = policy.execute(() => gate.promise)
      await policy.execute(() => 'refused').catch(() => {})
      gate.resolve()
      await running
    })
    expect(events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'keel.bulkhead.rejected',
        { 'keel.policy': 'reports', 'keel.bulkhead.concurrency': 1, 'keel.bulkhead.queue': 0 },
      ],
    ])
  })

  it('does nothing, and fails nothing, without an active span', async () => {
    expect(trace.getActiveSpan()).toBeUndefined()
    const policy = retry({ maxAttempts: 2, clock: new FakeClock() })
    await expect(policy.execute(failing)).rejects.toMatchObject({ code: 'KEEL_RETRY_EXHAUSTED' })
    expect(exporter.getFinishedSpans()).toEqual([])
  })
})
