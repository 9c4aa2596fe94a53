import { context, type SpanContext, TraceFlags, type Tracer, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { hrTimeToMilliseconds } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { type TSchema, Type } from '@sinclair/typebox'
import type { Db } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import {
  Bus,
  busKey,
  type Flow,
  FlowRunner,
  type FlowRunnerOptions,
  flow,
  Outcome,
  type RunInfo,
  type StepContext,
  step,
} from 'keel/flow'
import { createLogger, currentContext, type RequestContext, runWithContext, setSpanSource } from 'keel/log'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { LogCapture } from '../support/log-capture.ts'
import { eventually } from './support/eventually.ts'
import { Gate } from './support/gate.ts'
import { heldHeartbeat } from './support/held-heartbeat.ts'
import { type SeverableDb, severableDb } from './support/severable-db.ts'

/** The runner's own bus tells steps which worker runs them. */
const Worker = busKey<string>('worker')
/** A run-scoped value stored with the run. */
const Tenant = busKey<string>('tenant', { persist: true })
/** A process resource: never stored, each runner (or the submitter) provides its own. */
const Client = busKey<string>('client')

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<KeelError> {
  try {
    await promise
  } catch (error) {
    if (isKeelError(error)) return error
    throw error
  }
  throw new Error('expected the promise to reject, but it resolved')
}

/** How often each step ran, per run: `calls.of('charge', runId)`. */
class Calls {
  readonly #counts = new Map<string, number>()
  /** Who ran what, in order: `charge@b`. */
  readonly log: string[] = []

  hit(name: string, ctx: StepContext): void {
    const key = `${ctx.runId}/${name}`
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1)
    this.log.push(`${name}@${ctx.has(Worker) ? ctx.get(Worker) : '?'}`)
  }

  of(name: string, runId: string): number {
    return this.#counts.get(`${runId}/${name}`) ?? 0
  }
}

interface RunRow {
  id: string
  status: string
  owner: string | null
  lease_until: Date | null
  wake_at: Date | null
  executions: number
  context: unknown
  updated_at: Date
}

interface CheckpointRow {
  key: string
  seq: number
  kind: string
  status: string
  output: unknown
  fault: unknown
}

interface EventRow {
  seq: number
  type: string
  step: string | null
  attempt: number | null
  data: unknown
}

const Quantity: TSchema = Type.Object({ qty: Type.Integer({ minimum: 1 }) })

const runId = (run: RunInfo) => run.id

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * What the durable flow runner must do on every database it supports. `openDb` may be called
 * more than once; every handle it returns must reach the same database (a second pool on
 * PostgreSQL, or the same handle again). Tests share the database and keep apart by flow names
 * (a runner only claims runs of its own flows) and run ids.
 */
export function describeDurableRunner(name: string, openDb: () => Promise<Db>): void {
  describe(`durable flow runner: ${name}`, () => {
    let db: Db
    const handles: Db[] = []
    const runners: FlowRunner[] = []
    const gates: Gate[] = []
    const links: SeverableDb[] = []
    const suite = Math.random().toString(36).slice(2, 8)
    let flowCount = 0

    beforeAll(async () => {
      db = await openDb()
      handles.push(db)
    }, 120_000)

    afterEach(async () => {
      // Let every step held at a gate finish, reconnect every severed worker, then stop them all.
      for (const gate of gates.splice(0)) gate.open()
      for (const link of links.splice(0)) link.heal()
      await Promise.all(runners.splice(0).map((runner) => runner.stop(0)))
    }, 60_000)

    afterAll(async () => {
      await Promise.all(handles.map((handle) => handle.close()))
    }, 60_000)

    /** A flow name no other test (or run of this suite) uses. */
    const flowName = (base: string) => `${base}-${suite}-${++flowCount}`

    const gate = () => {
      const g = new Gate()
      gates.push(g)
      return g
    }

    const severable = () => {
      const link = severableDb(db)
      links.push(link)
      return link
    }

    /** A started runner on the suite's database, polling often, stopped after the test. */
    async function startRunner(
      options: Partial<FlowRunnerOptions> & Pick<FlowRunnerOptions, 'flows'>,
    ): Promise<FlowRunner> {
      const runner = new FlowRunner({ db, pollMs: 25, ...options })
      runners.push(runner)
      await runner.start()
      return runner
    }

    const worker = (id: string) => Bus.empty.with(Worker, id)

    async function runRow(runId: string): Promise<RunRow | undefined> {
      const [row] = await db.query<RunRow>(
        `select id, status, owner, lease_until, wake_at, executions, context, updated_at
         from keel_flow_runs where id = $1`,
        [runId],
      )
      return row
    }

    const checkpoints = (runId: string) =>
      db.query<CheckpointRow>(
        'select key, seq, kind, status, output, fault from keel_flow_checkpoints where run_id = $1 order by seq',
        [runId],
      )

    const events = (runId: string) =>
      db.query<EventRow>(
        'select seq, type, step, attempt, data from keel_flow_events where run_id = $1 order by seq',
        [runId],
      )

    /** Everything stored about a run, to show that nothing changed. */
    const storedState = async (runId: string) => ({
      run: await db.query('select * from keel_flow_runs where id = $1', [runId]),
      checkpoints: await db.query('select * from keel_flow_checkpoints where run_id = $1 order by seq', [
        runId,
      ]),
      events: await db.query('select * from keel_flow_events where run_id = $1 order by seq', [runId]),
    })

    /** A worker crashes: its link to the database is cut and its lease has run out. */
    async function crash(link: SeverableDb, runId: string): Promise<void> {
      link.sever()
      await db.query("update keel_flow_runs set lease_until = now() - interval '1 second' where id = $1", [
        runId,
      ])
    }

    /** Waits until a sleep has parked the run: sleeping, and handed back by its worker. */
    const parkedRun = (runId: string) =>
      eventually(async () => {
        const run = await runRow(runId)
        expect(run).toMatchObject({ status: 'sleeping', owner: null })
        return run!
      })

    const eventTypes = async (runner: FlowRunner, runId: string) =>
      (await runner.timeline(runId)).map((e) => (e.step ? `${e.type}:${e.step}` : e.type))

    describe('submitting', () => {
      it('runs a submitted flow to completion and stores its output, checkpoints and timeline', async () => {
        const calls = new Calls()
        const f = flow<{ n: number }>(flowName('add'))
          .andThen(
            step('double', (input: { n: number }, ctx) => {
              calls.hit('double', ctx)
              return { n: input.n * 2 }
            }),
          )
          .andThen(
            step('increment', (input: { n: number }, ctx) => {
              calls.hit('increment', ctx)
              return { n: input.n + 1 }
            }),
          )
          .build()
        const runner = await startRunner({ flows: [f] })

        const { runId, created } = await runner.submit(f, { n: 2 })
        expect(created).toBe(true)
        const done = await runner.wait(runId)

        expect(done).toMatchObject({ id: runId, flow: f.name, status: 'completed', output: { n: 5 } })
        const stored = await runner.get(runId)
        expect(stored).toMatchObject({
          status: 'completed',
          input: { n: 2 },
          output: { n: 5 },
          version: f.version,
          executions: 1,
        })
        expect(stored?.owner).toBeUndefined()
        expect(stored?.finishedAt).toBeInstanceOf(Date)
        expect(await checkpoints(runId)).toEqual([
          expect.objectContaining({
            key: 'double',
            seq: 1,
            kind: 'step',
            status: 'completed',
            output: { n: 4 },
          }),
          expect.objectContaining({
            key: 'increment',
            seq: 2,
            kind: 'step',
            status: 'completed',
            output: { n: 5 },
          }),
        ])
        expect(await eventTypes(runner, runId)).toEqual([
          'run.started',
          'step.completed:double',
          'step.completed:increment',
          'run.completed',
        ])
        expect((await runner.timeline(runId)).map((e) => e.seq)).toEqual([1, 2, 3, 4])
        expect(calls.of('double', runId)).toBe(1)
        expect(calls.of('increment', runId)).toBe(1)
      })

      it('starts one run for one runId, however often and however concurrently it is submitted', async () => {
        const calls = new Calls()
        const f = flow<{ order: string }>(flowName('once'))
          .andThen(
            step('charge', async (input: { order: string }, ctx) => {
              calls.hit('charge', ctx)
              await delay(20)
              return { charged: input.order }
            }),
          )
          .build()
        const runner = await startRunner({ flows: [f] })
        const runId = `order-${suite}-1`

        const first = await Promise.all([
          runner.submit(f, { order: 'o1' }, { runId }),
          runner.submit(f, { order: 'o1' }, { runId }),
        ])
        expect(first.map((r) => r.runId)).toEqual([runId, runId])
        expect(first.map((r) => r.created).sort()).toEqual([false, true])
        await runner.wait(runId)
        const again = await runner.submit(f, { order: 'other input' }, { runId })

        expect(again).toEqual({ runId, created: false })
        const run = await runner.wait(runId)
        expect(run).toMatchObject({ status: 'completed', input: { order: 'o1' }, output: { charged: 'o1' } })
        expect(calls.of('charge', runId)).toBe(1)
        expect(await db.query('select id from keel_flow_runs where id = $1', [runId])).toHaveLength(1)
        expect((await events(runId)).filter((e) => e.type === 'run.started')).toHaveLength(1)
      })

      it('rejects input its schema refuses with KEEL_FLOW_INPUT (422) and stores nothing', async () => {
        const f = flow<{ qty: number }>(flowName('typed'), { input: Quantity })
          .andThen(step('take', (input: { qty: number }) => input.qty))
          .build()
        const runner = await startRunner({ flows: [f] })
        const runId = `typed-${suite}`

        const error = await rejection(runner.submit(f, { qty: 0 }, { runId }))

        expect(error.code).toBe('KEEL_FLOW_INPUT')
        expect(error.status).toBe(422)
        expect(error.message).toContain('/input/qty')
        expect(await runner.get(runId)).toBeUndefined()
        expect(await db.query('select id from keel_flow_runs where flow = $1', [f.name])).toEqual([])
      })

      it('refuses a flow it was not given with KEEL_FLOW_UNKNOWN, and never claims runs of other flows', async () => {
        const known = flow(flowName('known'))
          .andThen(step('a', () => 1))
          .build()
        const stranger = flow(flowName('stranger'))
          .andThen(step('b', () => 2))
          .build()
        const runner = await startRunner({ flows: [known] })

        const error = await rejection(runner.submit(stranger, {}))
        expect(error.code).toBe('KEEL_FLOW_UNKNOWN')
        expect(error.message).toContain(stranger.name)

        // A run of that flow stored by a runner that knows it (and is not started) stays pending.
        const other = new FlowRunner({ db, flows: [stranger] })
        await other.start()
        await other.stop()
        const { runId } = await other.submit(stranger, {})
        expect(await runner.store.claim('probe', [known.name], 10, 1_000, Date.now())).toEqual([])
        expect(await runner.get(runId)).toMatchObject({ status: 'pending', executions: 0 })
        expect((await runner.get(runId))?.owner).toBeUndefined()
      })
    })

    describe('after a crash', () => {
      it('resumes the run on another worker from its checkpoints and fences the crashed worker', async () => {
        const calls = new Calls()
        const entered = gate()
        const hold = gate()
        const f = flow<{ id: string }>(flowName('crash'))
          .andThen(
            step('reserve', (order: { id: string }, ctx) => {
              calls.hit('reserve', ctx)
              return { ...order, reserved: true }
            }),
          )
          .andThen(
            step('charge', async (order: { id: string; reserved: boolean }, ctx) => {
              calls.hit('charge', ctx)
              const by = ctx.get(Worker)
              if (by === 'a') {
                entered.open()
                await hold.promise // ignores ctx.signal: the worker is wedged
              }
              return { ...order, chargedBy: by }
            }),
          )
          .build()
        const link = severable()
        const logs = new LogCapture()
        const a = await startRunner({
          db: link.db,
          flows: [f],
          leaseMs: 300,
          workerId: `a-${suite}`,
          bus: worker('a'),
          logger: pino({ level: 'warn' }, logs),
        })

        const { runId } = await a.submit(f, { id: 'o1' })
        await entered.promise
        expect(await runRow(runId)).toMatchObject({ status: 'running', owner: a.workerId, executions: 1 })
        expect((await checkpoints(runId)).map((c) => c.key)).toEqual(['reserve'])

        await crash(link, runId)
        const b = await startRunner({ flows: [f], workerId: `b-${suite}`, bus: worker('b') })
        const run = await b.wait(runId)

        expect(run.status).toBe('completed')
        expect(run.output).toEqual({ id: 'o1', reserved: true, chargedBy: 'b' })
        expect(calls.of('reserve', runId)).toBe(1) // replayed from its checkpoint, not run again
        expect(calls.log).toEqual(['reserve@a', 'charge@a', 'charge@b'])
        expect(await runRow(runId)).toMatchObject({ status: 'completed', owner: null, executions: 2 })
        const timeline = await b.timeline(runId)
        expect(timeline.map((e) => e.type)).toEqual([
          'run.started',
          'step.completed',
          'run.resumed',
          'step.completed',
          'run.completed',
        ])
        expect(timeline[2]?.data).toEqual({ worker: b.workerId, execution: 2, resumes: 1 })

        // The crashed worker comes back and its wedged step returns: its write must not land.
        const after = await storedState(runId)
        const commits = vi.spyOn(a.store, 'commit')
        link.heal()
        hold.open()
        await eventually(() => expect(a.activeRuns).toBe(0))

        expect(commits).toHaveBeenCalled()
        expect(commits.mock.settledResults.every((r) => r.type === 'fulfilled' && r.value === false)).toBe(
          true,
        )
        expect(await storedState(runId)).toEqual(after)
        expect((await checkpoints(runId)).find((c) => c.key === 'charge')?.output).toMatchObject({
          chargedBy: 'b',
        })
        expect(logs.records).toContainEqual(
          expect.objectContaining({
            run_id: runId,
            msg: expect.stringContaining('no longer owned by worker'),
          }),
        )
      })

      it('never starts a second execution of a run it is still executing, even after its own lease lapsed', async () => {
        const calls = new Calls()
        const entered = gate()
        const hold = gate()
        const f = flow(flowName('lapse'))
          .andThen(
            step('slow', async (_: unknown, ctx) => {
              calls.hit('slow', ctx)
              entered.open()
              await hold.promise
              return 'done'
            }),
          )
          .build()
        const link = severable()
        const a = await startRunner({ db: link.db, flows: [f], leaseMs: 300, bus: worker('a') })

        const { runId } = await a.submit(f, {})
        await entered.promise
        // A long pause (GC, a partition): no heartbeat lands and the lease runs out.
        await crash(link, runId)
        link.heal()
        // Several polls later the run must still be the one execution.
        await eventually(async () =>
          expect((await runRow(runId))?.lease_until?.getTime()).toBeGreaterThan(Date.now()),
        )
        await delay(150)
        expect(calls.of('slow', runId)).toBe(1)
        expect(a.activeRuns).toBe(1)
        hold.open()

        expect(await a.wait(runId)).toMatchObject({ status: 'completed', output: 'done' })
        expect(calls.of('slow', runId)).toBe(1)
      })

      it('keeps a run whose step outlasts the lease, by heartbeat, from every other worker', async () => {
        const calls = new Calls()
        const f = flow(flowName('long'))
          .andThen(
            step('slow', async (_: unknown, ctx) => {
              calls.hit('slow', ctx)
              await delay(3_000)
              return ctx.get(Worker)
            }),
          )
          .build()
        // Heartbeats every 400 ms keep a 1.2 s lease: a pause of the (loaded) test process under
        // ~800 ms must not let B in. The step outlasts the lease 2.5 times over.
        const a = await startRunner({ flows: [f], leaseMs: 1_200, bus: worker('a') })
        const { runId } = await a.submit(f, {})
        // A submit that met an in-flight claim goes through the queue; either way A takes it.
        await eventually(() => expect(a.activeRuns).toBe(1))
        await startRunner({ flows: [f], leaseMs: 1_200, bus: worker('b') })

        const run = await a.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: 'a', executions: 1 })
        expect(calls.log).toEqual(['slow@a'])
      })

      it('a heartbeat answered late does not stop a later execution of the same run', async () => {
        const calls = new Calls()
        const inOne = gate()
        const finishOne = gate()
        const inTwo = gate()
        const finishTwo = gate()
        const f = flow(flowName('stale'))
          .andThen(
            step('one', async (_: unknown, ctx) => {
              calls.hit('one', ctx)
              inOne.open()
              await finishOne.promise
              return 1
            }),
          )
          .sleep('blink', 300)
          .andThen(
            step('two', async (_: unknown, ctx) => {
              calls.hit('two', ctx)
              inTwo.open()
              // Honours its signal: an abort (a lost lease) ends the attempt.
              await new Promise<void>((resolve, reject) => {
                void finishTwo.promise.then(resolve)
                ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })
              })
              return 2
            }),
          )
          .build()
        const slow = heldHeartbeat(db)
        gates.push(slow.execute, slow.answer)
        const logs = new LogCapture()
        const a = await startRunner({
          db: slow.db,
          flows: [f],
          leaseMs: 300,
          logger: pino({ level: 'warn' }, logs),
        })

        const { runId } = await a.submit(f, {})
        await inOne.promise
        await slow.requested.promise // a heartbeat for the first execution is on its way
        finishOne.open()
        await parkedRun(runId)
        slow.execute.open() // it reaches the database while the run is parked: not this worker's
        await slow.executed.promise
        await inTwo.promise // woken, claimed again, executing here a second time
        slow.answer.open() // the stale answer arrives
        await delay(50) // it is handled in microtasks: a timer later, the runner has acted on it
        expect(a.activeRuns).toBe(1)

        finishTwo.open()
        const run = await a.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: 2, executions: 2 })
        expect(calls.of('two', runId)).toBe(1)
        expect(logs.text).not.toContain('taken over')
      })
    })

    describe('durable sleep', () => {
      it('parks a sleeping run, and a later worker wakes it only after its deadline', async () => {
        const calls = new Calls()
        let wokeAt = 0
        const f = flow<{ id: string }>(flowName('nap'))
          .andThen(
            step('before', (input: { id: string }, ctx) => {
              calls.hit('before', ctx)
              return input
            }),
          )
          .sleep('nap', 400)
          .andThen(
            step('after', (input: { id: string }, ctx) => {
              calls.hit('after', ctx)
              wokeAt = Date.now()
              return { ...input, woke: true }
            }),
          )
          .build()
        const a = await startRunner({ flows: [f], bus: worker('a') })

        const { runId } = await a.submit(f, { id: 's1' })
        await parkedRun(runId)
        const parked = (await a.get(runId))!
        await eventually(() => expect(a.activeRuns).toBe(0))
        await a.stop()

        expect(parked.owner).toBeUndefined()
        const wakeAt = parked.wakeAt!.getTime()
        expect(wakeAt).toBeGreaterThan(parked.createdAt.getTime())
        expect(await runRow(runId)).toMatchObject({ status: 'sleeping', owner: null, lease_until: null })
        expect(await checkpoints(runId)).toContainEqual(
          expect.objectContaining({ key: 'nap', kind: 'sleep', status: 'completed' }),
        )
        expect(calls.of('after', runId)).toBe(0)
        // Not due before its deadline, for any worker.
        expect(await a.store.claim('probe', [f.name], 10, 1_000, wakeAt - 1)).toEqual([])

        const b = await startRunner({ flows: [f], bus: worker('b') })
        const run = await b.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: { id: 's1', woke: true } })
        expect(wokeAt).toBeGreaterThanOrEqual(wakeAt)
        expect(calls.log).toEqual(['before@a', 'after@b'])
        expect(await runRow(runId)).toMatchObject({ executions: 2, owner: null })
        const timeline = await b.timeline(runId)
        expect(timeline.map((e) => (e.step ? `${e.type}:${e.step}` : e.type))).toEqual([
          'run.started',
          'step.completed:before',
          'sleep.started:nap',
          'run.resumed',
          'step.completed:after',
          'run.completed',
        ])
        expect(timeline.find((e) => e.type === 'run.resumed')!.at).toBeGreaterThanOrEqual(wakeAt)
      })

      it('a sleep in one parallel branch lets the other branches finish and keep their checkpoints', async () => {
        const calls = new Calls()
        const logs = new LogCapture()
        const napper = flow<unknown>('napper').sleep('nap', 300).build()
        const f = flow(flowName('nap-fork'))
          .parallel('fork', {
            nap: napper,
            work: step('work', async (_: unknown, ctx) => {
              calls.hit('work', ctx)
              await delay(100)
              return 'worked'
            }),
          })
          .andThen(
            step('after', (input: { work: string }, ctx) => {
              calls.hit('after', ctx)
              return input.work
            }),
          )
          .build()
        const runner = await startRunner({ flows: [f], logger: pino({ level: 'warn' }, logs) })

        const { runId } = await runner.submit(f, {})
        const run = await runner.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: 'worked' })
        expect(calls.of('work', runId)).toBe(1)
        expect(calls.of('after', runId)).toBe(1)
        expect(logs.records).toEqual([])
      })

      it('sleeps in parallel branches wake the run for the earliest, then park it again for the rest', async () => {
        const f = flow(flowName('two-naps'))
          .parallel('naps', {
            short: flow<unknown>('short').sleep('short-nap', 150).build(),
            long: flow<unknown>('long').sleep('long-nap', 900).build(),
          })
          .andThen(step('after', () => Date.now()))
          .build()
        const runner = await startRunner({ flows: [f] })

        const started = Date.now()
        const { runId } = await runner.submit(f, {})
        const run = await runner.wait(runId, { timeoutMs: 20_000 })

        expect(run.status).toBe('completed')
        // Woken for the short sleep, the run waited out the long one before going on.
        expect(run.output as number).toBeGreaterThanOrEqual(started + 900)
        expect((await runRow(runId))!.executions).toBeGreaterThanOrEqual(2)
      })

      it('discards a sleeping run at once, without waiting for its deadline', async () => {
        const compensated: string[] = []
        const f = flow(flowName('nap-discard'))
          .andThen(
            step('book', {
              run: () => 'booking-1',
              compensate: (_input, output) => {
                compensated.push(String(output))
              },
            }),
          )
          .sleep('long-nap', 60_000)
          .andThen(step('confirm', () => 'confirmed'))
          .build()
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, {})
        await parkedRun(runId)

        await runner.discard(runId)
        const run = await runner.wait(runId, { timeoutMs: 5_000 })

        expect(run).toMatchObject({ status: 'discarded', fault: { code: 'discarded' } })
        expect(compensated).toEqual(['booking-1'])
      })
    })

    describe('faults and compensation', () => {
      const order = () => {
        const calls = new Calls()
        const undone: string[] = []
        const compensable = (name: string, hold?: Gate, entered?: Gate) =>
          step(name, {
            run: (input: Record<string, unknown>, ctx) => {
              calls.hit(name, ctx)
              return { ...input, [name]: true }
            },
            compensate: async (_input, _output, ctx) => {
              calls.hit(`undo-${name}`, ctx)
              if (hold && ctx.get(Worker) === 'a') {
                entered?.open()
                await hold.promise
              }
              undone.push(name)
            },
          })
        return { calls, undone, compensable }
      }

      it('compensates completed steps in reverse order and ends compensated with the fault', async () => {
        const { calls, undone, compensable } = order()
        const inputs: unknown[] = []
        const f = flow<Record<string, unknown>>(flowName('saga'))
          .andThen(compensable('reserve'))
          .andThen(
            step('charge', {
              run: (input: Record<string, unknown>) => ({ ...input, charge: 'ch_1' }),
              compensate: (input, output) => {
                inputs.push(input, output)
                undone.push('charge')
              },
            }),
          )
          .andThen(
            step('ship', (_: unknown, ctx) => {
              calls.hit('ship', ctx)
              return Outcome.fault('no_stock', 'nothing left to ship', { sku: 'x' })
            }),
          )
          .build()
        const runner = await startRunner({ flows: [f] })

        const { runId } = await runner.submit(f, { id: 'o1' })
        const run = await runner.wait(runId)

        const fault = { code: 'no_stock', message: 'nothing left to ship', details: { sku: 'x' } }
        expect(run).toMatchObject({ status: 'compensated', fault })
        expect(await runner.get(runId)).toMatchObject({ status: 'compensated', fault })
        expect(undone).toEqual(['charge', 'reserve'])
        expect(inputs).toEqual([
          { id: 'o1', reserve: true },
          { id: 'o1', reserve: true, charge: 'ch_1' },
        ])
        expect(calls.of('ship', runId)).toBe(1)
        expect(await checkpoints(runId)).toEqual([
          expect.objectContaining({ key: 'reserve', kind: 'step', status: 'completed' }),
          expect.objectContaining({ key: 'charge', kind: 'step', status: 'completed' }),
          expect.objectContaining({ key: 'ship', kind: 'step', status: 'faulted', fault }),
          expect.objectContaining({ key: 'compensate:charge', kind: 'compensation', status: 'completed' }),
          expect.objectContaining({ key: 'compensate:reserve', kind: 'compensation', status: 'completed' }),
        ])
        expect(await eventTypes(runner, runId)).toEqual([
          'run.started',
          'step.completed:reserve',
          'step.completed:charge',
          'step.faulted:ship',
          'compensation.started',
          'step.compensated:charge',
          'step.compensated:reserve',
          'run.compensated',
        ])
      })

      it('resumes a compensation interrupted by a crash without repeating finished compensations or running steps that never completed', async () => {
        const entered = gate()
        const hold = gate()
        const { calls, undone, compensable } = order()
        const f = flow<Record<string, unknown>>(flowName('saga-crash'))
          .andThen(compensable('reserve'))
          .andThen(compensable('charge', hold, entered))
          .andThen(compensable('notify'))
          .andThen(
            step<Record<string, unknown>, Record<string, unknown>>('ship', (_, ctx) => {
              calls.hit('ship', ctx)
              return Outcome.fault('no_stock')
            }),
          )
          .andThen(compensable('invoice'))
          .build()
        const link = severable()
        const a = await startRunner({ db: link.db, flows: [f], leaseMs: 300, bus: worker('a') })

        const { runId } = await a.submit(f, {})
        await entered.promise
        expect(await runRow(runId)).toMatchObject({ status: 'compensating', owner: a.workerId })
        await crash(link, runId)
        const b = await startRunner({ flows: [f], bus: worker('b') })
        const run = await b.wait(runId)

        expect(run).toMatchObject({ status: 'compensated', fault: { code: 'no_stock' } })
        for (const name of ['reserve', 'charge', 'notify', 'ship']) expect(calls.of(name, runId)).toBe(1)
        expect(calls.of('invoice', runId)).toBe(0)
        expect(calls.of('undo-notify', runId)).toBe(1) // checkpointed before the crash
        expect(calls.of('undo-charge', runId)).toBe(2) // interrupted: at least once
        expect(calls.of('undo-reserve', runId)).toBe(1)
        expect(calls.log.filter((c) => c.endsWith('@b'))).toEqual(['undo-charge@b', 'undo-reserve@b'])
        expect(undone).toEqual(['notify', 'charge', 'reserve'])
        expect(await eventTypes(b, runId)).toContain('run.resumed')

        const after = await storedState(runId)
        link.heal()
        hold.open()
        await eventually(() => expect(a.activeRuns).toBe(0))
        expect(await storedState(runId)).toEqual(after)
      })

      it('after a crash once a branch faulted, compensates without starting the unfinished sibling step again', async () => {
        const entered = gate()
        const hold = gate()
        const { calls, compensable } = order()
        const f = flow<Record<string, unknown>>(flowName('fork-crash'))
          .andThen(compensable('reserve'))
          .parallel('fork', {
            pay: step('pay', (_: unknown, ctx) => {
              calls.hit('pay', ctx)
              return Outcome.fault('declined')
            }),
            pack: step('pack', {
              run: async (_: unknown, ctx) => {
                calls.hit('pack', ctx)
                entered.open()
                await hold.promise
                return 'packed'
              },
              compensate: (_input, _output, ctx) => calls.hit('undo-pack', ctx),
            }),
          })
          .build()
        const link = severable()
        const a = await startRunner({ db: link.db, flows: [f], leaseMs: 300, bus: worker('a') })

        const { runId } = await a.submit(f, {})
        await entered.promise
        await eventually(async () => expect((await runRow(runId))?.status).toBe('compensating'))
        await crash(link, runId)
        const b = await startRunner({ flows: [f], bus: worker('b') })
        const run = await b.wait(runId)

        expect(run).toMatchObject({ status: 'compensated', fault: { code: 'declined' } })
        expect(calls.of('pack', runId)).toBe(1)
        expect(calls.of('undo-pack', runId)).toBe(0)
        expect(calls.of('undo-reserve', runId)).toBe(1)
      })
    })

    describe('dead letters', () => {
      const deadFlow = (base: string) => {
        const calls = new Calls()
        const state = { broken: true, compensationBroken: false }
        const f = flow<{ sku: string }>(flowName(base))
          .andThen(
            step('reserve', {
              run: (input: { sku: string }, ctx) => {
                calls.hit('reserve', ctx)
                return { ...input, reservation: 'r1' }
              },
              compensate: (_input, _output, ctx) => {
                calls.hit('undo-reserve', ctx)
                if (state.compensationBroken) throw new Error('inventory cannot release')
              },
              retry: { maxAttempts: 2, initialDelayMs: 1, jitter: false },
            }),
          )
          .andThen(
            step('pick', {
              run: (input: { sku: string; reservation: string }, ctx) => {
                calls.hit('pick', ctx)
                if (state.broken) throw new Error('warehouse is down')
                return { ...input, picked: true }
              },
              retry: { maxAttempts: 2, initialDelayMs: 1, jitter: false },
            }),
          )
          .andThen(
            step('label', (input: Record<string, unknown>, ctx) => {
              calls.hit('label', ctx)
              return { ...input, labelled: true }
            }),
          )
          .build()
        return { f, calls, state }
      }

      it('sends a run whose step returns a value PostgreSQL cannot store to the dead letters at once', async () => {
        let calls = 0
        const f = flow(flowName('bigint'))
          .andThen(
            step('count', () => {
              calls++
              return { total: 10n }
            }),
          )
          .build()
        const runner = await startRunner({ flows: [f] })

        const run = await runner.run(f, {})

        expect(run).toMatchObject({ status: 'dead', error: { step: 'count', code: 'KEEL_FLOW_INVALID' } })
        expect(run.error?.message).toMatch(/JSON/)
        expect(calls).toBe(1)
        expect((await runRow(runId(run)))!.executions).toBe(1)
      })

      it('a run whose workers keep dying goes dead instead of resuming forever', async () => {
        const f = flow(flowName('poison'))
          .andThen(step('only', () => 1))
          .build()
        const runner = await startRunner({ flows: [f], maxResumes: 2 })
        // As if three workers had died holding it: still running, owner gone, resumed twice.
        await db.query(
          `insert into keel_flow_runs (id, flow, version, status, input, owner, lease_until, executions, resumes)
           values ($1, $2, $3, 'running', 'null'::jsonb, 'ghost', now() - interval '1 second', 3, 2)`,
          [`poison-${suite}`, f.name, f.version],
        )

        const run = await runner.wait(`poison-${suite}`, { timeoutMs: 20_000 })

        expect(run).toMatchObject({ status: 'dead', error: { code: 'KEEL_FLOW_DEAD' } })
        expect(run.error?.message).toMatch(/3 times/)
      })

      it('sends a run that exhausted its retries to the dead letters, with the step, phase and error', async () => {
        const { f, calls } = deadFlow('dead')
        const runner = await startRunner({ flows: [f] })

        const { runId } = await runner.submit(f, { sku: 'x' })
        const run = await runner.wait(runId)

        expect(run).toMatchObject({
          status: 'dead',
          error: { step: 'pick', phase: 'forward', message: 'warehouse is down', name: 'Error' },
        })
        const stored = await runner.get(runId)
        expect(stored).toMatchObject({ status: 'dead', error: run.error })
        expect(stored?.owner).toBeUndefined()
        expect(stored?.finishedAt).toBeUndefined()
        expect(calls.of('pick', runId)).toBe(2)
        expect((await runner.deadLetters({ flow: f.name })).map((r) => r.id)).toEqual([runId])
        expect((await runner.deadLetters()).map((r) => r.id)).toContain(runId)
        const timeline = await runner.timeline(runId)
        expect(timeline.filter((e) => e.type === 'step.attempt_failed')).toEqual([
          expect.objectContaining({
            step: 'pick',
            attempt: 1,
            error: expect.objectContaining({ message: 'warehouse is down' }),
          }),
        ])
        expect(timeline.slice(-2)).toEqual([
          expect.objectContaining({ type: 'step.dead', step: 'pick', attempt: 2 }),
          expect.objectContaining({ type: 'run.dead', step: 'pick', data: { phase: 'forward' } }),
        ])
      })

      it('retry() gives the dead step fresh attempts and the run completes once the cause is fixed', async () => {
        const { f, calls, state } = deadFlow('dead-retry')
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, { sku: 'x' })
        expect((await runner.wait(runId)).status).toBe('dead')

        state.broken = false
        await runner.retry(runId)
        const run = await runner.wait(runId)

        expect(run).toMatchObject({
          status: 'completed',
          output: { sku: 'x', reservation: 'r1', picked: true, labelled: true },
        })
        expect((await runner.get(runId))?.error).toBeUndefined()
        expect(calls.of('reserve', runId)).toBe(1)
        expect(calls.of('pick', runId)).toBe(3)
        expect(await eventTypes(runner, runId)).toContain('run.retried')
        expect((await runner.deadLetters({ flow: f.name })).map((r) => r.id)).not.toContain(runId)
      })

      it('resume() continues past the dead step with the output an operator gives', async () => {
        const { f, calls } = deadFlow('dead-resume')
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, { sku: 'x' })
        expect((await runner.wait(runId)).status).toBe('dead')

        await runner.resume(runId, { sku: 'x', picked: 'by hand' })
        const run = await runner.wait(runId)

        expect(run).toMatchObject({
          status: 'completed',
          output: { sku: 'x', picked: 'by hand', labelled: true },
        })
        expect(calls.of('pick', runId)).toBe(2)
        expect(calls.of('label', runId)).toBe(1)
        expect(await checkpoints(runId)).toContainEqual(
          expect.objectContaining({
            key: 'pick',
            status: 'completed',
            output: { sku: 'x', picked: 'by hand' },
          }),
        )
      })

      it('discard() compensates the completed steps and ends discarded', async () => {
        const { f, calls } = deadFlow('dead-discard')
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, { sku: 'x' })
        expect((await runner.wait(runId)).status).toBe('dead')

        await runner.discard(runId)
        const run = await runner.wait(runId)

        expect(run).toMatchObject({ status: 'discarded', fault: { code: 'discarded' } })
        expect((await runner.get(runId))?.finishedAt).toBeInstanceOf(Date)
        expect(calls.of('undo-reserve', runId)).toBe(1)
        expect(calls.of('pick', runId)).toBe(2)
        expect(calls.of('label', runId)).toBe(0)
        expect((await eventTypes(runner, runId)).slice(-3)).toEqual([
          'compensation.started',
          'step.compensated:reserve',
          'run.discarded',
        ])
      })

      it('discard({ compensate: false }) ends the run at once without compensating', async () => {
        const { f, calls } = deadFlow('dead-drop')
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, { sku: 'x' })
        expect((await runner.wait(runId)).status).toBe('dead')

        await runner.discard(runId, { compensate: false })

        expect(await runner.get(runId)).toMatchObject({ status: 'discarded', fault: { code: 'discarded' } })
        expect((await runner.get(runId))?.finishedAt).toBeInstanceOf(Date)
        await delay(100)
        expect(calls.of('undo-reserve', runId)).toBe(0)
        expect((await events(runId)).at(-1)?.type).toBe('run.discarded')
      })

      it('a run dead while compensating retries its compensation and ends compensated', async () => {
        const { f, calls, state } = deadFlow('dead-undo')
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, { sku: 'x' })
        expect((await runner.wait(runId)).status).toBe('dead')
        state.compensationBroken = true
        await runner.discard(runId)
        const dead = await eventually(async () => {
          const run = await runner.get(runId)
          expect(run?.status).toBe('dead')
          expect(run?.error?.phase).toBe('compensation')
          return run!
        })
        expect(dead.error).toMatchObject({ step: 'reserve', message: 'inventory cannot release' })
        expect(await rejection(runner.resume(runId, {}))).toMatchObject({
          code: 'KEEL_FLOW_RUN_STATE',
          status: 409,
        })

        state.compensationBroken = false
        await runner.retry(runId)
        const run = await runner.wait(runId)

        expect(run).toMatchObject({ status: 'discarded', fault: { code: 'discarded' } })
        expect(calls.of('undo-reserve', runId)).toBe(3)
        expect(calls.of('label', runId)).toBe(0)
      })

      it('refuses operations on runs in the wrong state (409) and on unknown runs (404)', async () => {
        const f = flow(flowName('states'))
          .andThen(step('ok', () => 'ok'))
          .build()
        const runner = await startRunner({ flows: [f] })
        const { runId } = await runner.submit(f, {})
        expect((await runner.wait(runId)).status).toBe('completed')

        // Thunks: each operation starts only when awaited, so no rejection goes unhandled meanwhile.
        for (const operation of [
          () => runner.retry(runId),
          () => runner.resume(runId, 'x'),
          () => runner.discard(runId),
          () => runner.discard(runId, { compensate: false }),
        ]) {
          const error = await rejection(operation())
          expect(error).toMatchObject({ code: 'KEEL_FLOW_RUN_STATE', status: 409 })
          expect(error.message).toContain('completed')
        }
        expect(await runner.get(runId)).toMatchObject({ status: 'completed' })

        const missing = `missing-${suite}`
        for (const operation of [
          () => runner.retry(missing),
          () => runner.resume(missing, 'x'),
          () => runner.discard(missing),
          () => runner.wait(missing),
        ]) {
          expect(await rejection(operation())).toMatchObject({ code: 'KEEL_FLOW_RUN_NOT_FOUND', status: 404 })
        }
      })
    })

    describe('several workers', () => {
      it('two runners on one database complete every run exactly once and share the work', async () => {
        const calls = new Calls()
        const byWorker = new Map<string, number>()
        const work = (name: string) =>
          step(name, async (input: { i: number }, ctx) => {
            calls.hit(name, ctx)
            byWorker.set(ctx.get(Worker), (byWorker.get(ctx.get(Worker)) ?? 0) + 1)
            await delay(5)
            return input
          })
        const f = flow<{ i: number }>(flowName('fleet'))
          .andThen(work('first'))
          .andThen(work('second'))
          .build()
        const second = await openDb()
        handles.push(second)
        const a = await startRunner({ flows: [f], concurrency: 4, bus: worker('a') })
        await startRunner({ db: second, flows: [f], concurrency: 4, bus: worker('b') })

        const submitted = await Promise.all(Array.from({ length: 40 }, (_, i) => a.submit(f, { i })))
        expect(submitted.every((s) => s.created)).toBe(true)
        const runs = await Promise.all(submitted.map(({ runId }) => a.wait(runId, { timeoutMs: 20_000 })))

        expect(runs.map((r) => r.status)).toEqual(Array(40).fill('completed'))
        expect(runs.map((r) => (r.output as { i: number }).i).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 40 }, (_, i) => i),
        )
        for (const { runId } of submitted) {
          expect(calls.of('first', runId)).toBe(1)
          expect(calls.of('second', runId)).toBe(1)
        }
        expect(byWorker.get('a')).toBeGreaterThan(0)
        expect(byWorker.get('b')).toBeGreaterThan(0)
        const rows = await db.query<{ executions: number; owner: string | null }>(
          'select executions, owner from keel_flow_runs where flow = $1',
          [f.name],
        )
        expect(rows).toHaveLength(40)
        expect(rows.every((r) => r.executions === 1 && r.owner === null)).toBe(true)
      })

      it('stop() lets the running step finish, releases the run, and another runner completes it', async () => {
        const calls = new Calls()
        const entered = gate()
        const hold = gate()
        const f = flow(flowName('drain'))
          .andThen(
            step('pack', async (_: unknown, ctx) => {
              calls.hit('pack', ctx)
              if (ctx.get(Worker) === 'a') {
                entered.open()
                await hold.promise
              }
              return 'packed'
            }),
          )
          .andThen(
            step('ship', (input: string, ctx) => {
              calls.hit('ship', ctx)
              return `${input}+shipped`
            }),
          )
          .build()
        const a = await startRunner({ flows: [f], bus: worker('a') })
        const { runId } = await a.submit(f, {})
        await entered.promise

        const stopped = a.stop(10_000)
        hold.open()
        await stopped

        expect(a.activeRuns).toBe(0)
        expect(await runRow(runId)).toMatchObject({ status: 'running', owner: null, lease_until: null })
        expect((await checkpoints(runId)).map((c) => c.key)).toEqual(['pack'])
        expect((await events(runId)).at(-1)).toMatchObject({
          type: 'run.released',
          data: { worker: a.workerId },
        })
        expect(calls.of('ship', runId)).toBe(0)

        const b = await startRunner({ flows: [f], bus: worker('b') })
        const run = await b.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: 'packed+shipped', executions: 2 })
        expect(calls.log).toEqual(['pack@a', 'ship@b'])
      })

      it('stop() returns after its deadline even when a step ignores its signal, and the run resumes elsewhere', async () => {
        const calls = new Calls()
        const entered = gate()
        const hold = gate()
        const f = flow(flowName('stuck'))
          .andThen(
            step('wedge', async (_: unknown, ctx) => {
              calls.hit('wedge', ctx)
              if (ctx.get(Worker) === 'a') {
                entered.open()
                await hold.promise
              }
              return `done by ${ctx.get(Worker)}`
            }),
          )
          .build()
        const a = await startRunner({ flows: [f], leaseMs: 300, bus: worker('a') })
        const { runId } = await a.submit(f, {})
        await entered.promise

        await a.stop(50)

        // Left behind, still A's: no heartbeat keeps it, so the lease runs out and B takes over.
        expect(await runRow(runId)).toMatchObject({ status: 'running', owner: a.workerId })
        const b = await startRunner({ flows: [f], bus: worker('b') })
        expect(await b.wait(runId)).toMatchObject({ status: 'completed', output: 'done by b', executions: 2 })
        const after = await storedState(runId)
        hold.open()
        await eventually(() => expect(a.activeRuns).toBe(0))
        expect(await storedState(runId)).toEqual(after)
        expect(calls.log).toEqual(['wedge@a', 'wedge@b'])
      })
    })

    describe('the bus', () => {
      it('restores persisted keys on resume, and takes the others from the resuming runner', async () => {
        const seen: Array<{ step: string; tenant: string; client: string }> = []
        const look = (name: string) =>
          step(name, (input: unknown, ctx) => {
            seen.push({ step: name, tenant: ctx.get(Tenant), client: ctx.get(Client) })
            return input
          })
        const f = flow(flowName('bus'))
          .andThen(look('before'))
          .sleep('nap', 100)
          .andThen(look('after'))
          .build()
        const a = await startRunner({ flows: [f], bus: Bus.empty.with(Client, 'client-a') })

        const { runId } = await a.submit(
          f,
          {},
          { bus: Bus.empty.with(Tenant, 'acme').with(Client, 'from-submit') },
        )
        await parkedRun(runId)
        await a.stop()
        expect((await runRow(runId))?.context).toEqual({ tenant: 'acme' })
        const b = await startRunner({ flows: [f], bus: Bus.empty.with(Client, 'client-b') })
        expect((await b.wait(runId)).status).toBe('completed')

        expect(seen).toEqual([
          { step: 'before', tenant: 'acme', client: 'from-submit' },
          { step: 'after', tenant: 'acme', client: 'client-b' },
        ])
      })
    })

    describe('commits', () => {
      it('lands the checkpoints of parallel branches that finish at the same moment', async () => {
        const release = gate()
        const branch = (name: string) =>
          step(name, async () => {
            await release.promise
            return name
          })
        const f = flow(flowName('fan'))
          .parallel('fan', {
            left: branch('left'),
            middle: branch('middle'),
            right: branch('right'),
            up: branch('up'),
            down: branch('down'),
          })
          .andThen(step('join', (input: Record<string, string>) => Object.values(input).sort().join(',')))
          .build()
        const runner = await startRunner({ flows: [f] })

        const { runId } = await runner.submit(f, {})
        await delay(50)
        release.open()
        const run: RunInfo = await runner.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: 'down,left,middle,right,up' })
        const stored = await checkpoints(runId)
        expect(stored.map((c) => c.key).sort()).toEqual(['down', 'join', 'left', 'middle', 'right', 'up'])
        expect(stored.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6])
        const timeline = await events(runId)
        expect(timeline.map((e) => e.seq)).toEqual(timeline.map((_, i) => i + 1))
        expect(timeline.filter((e) => e.type === 'step.completed').map((e) => e.step)).toHaveLength(6)
      })
    })

    describe('tracing', () => {
      const exporter = new InMemorySpanExporter()
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
      const tracer = provider.getTracer('durable-flow-test')
      /** Unsampled spans, which an exporter never sees. */
      const unsampled: ReadableSpan[] = []
      /** Records every span unsampled, as the inspector does for traces it keeps but does not export. */
      const recordingProvider = new BasicTracerProvider({
        sampler: { shouldSample: () => ({ decision: SamplingDecision.RECORD }), toString: () => 'record' },
        spanProcessors: [
          {
            onStart: () => {},
            onEnd: (span) => void unsampled.push(span),
            forceFlush: async () => {},
            shutdown: async () => {},
          },
        ],
      })
      const recordingTracer = recordingProvider.getTracer('durable-flow-test')

      beforeAll(() => {
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
      })
      afterEach(() => {
        exporter.reset()
        unsampled.length = 0
      })
      afterAll(async () => {
        context.disable()
        await Promise.all([provider.shutdown(), recordingProvider.shutdown()])
      })

      /** The finished spans of one run, by name. */
      const spansOf = (runId: string, name: string) =>
        [...exporter.getFinishedSpans(), ...unsampled].filter(
          (s) => s.name === name && s.attributes['keel.flow.run_id'] === runId,
        )

      /** Submits inside an active span `request`, ended once the submit resolves, as a request would. */
      async function submitInRequest<I>(
        runner: FlowRunner,
        f: Flow<I, unknown>,
        input: I,
        using: Tracer = tracer,
      ): Promise<{ runId: string; request: SpanContext }> {
        return using.startActiveSpan('request', async (span) => {
          try {
            const { runId } = await runner.submit(f, input)
            return { runId, request: span.spanContext() }
          } finally {
            span.end()
          }
        })
      }

      const storedTraceParent = async (runId: string) =>
        (
          await db.query<{ trace_parent: string | null }>(
            'select trace_parent from keel_flow_runs where id = $1',
            [runId],
          )
        )[0]?.trace_parent

      /** A flow whose one step waits at `hold`: with concurrency 1 it keeps the only slot. */
      const blocking = (hold: Gate) =>
        flow(flowName('hog'))
          .andThen(step('hold', () => hold.promise))
          .build()

      /**
       * A runner of concurrency 1 (and `f`) whose only slot a blocking run holds, so a run
       * submitted now waits for the poller; `hold.open()` frees the slot.
       */
      async function busyRunner(f: Flow<unknown, unknown>, options: Partial<FlowRunnerOptions> = {}) {
        const hold = gate()
        const hog = blocking(hold)
        const runner = await startRunner({ flows: [hog, f], concurrency: 1, tracer, ...options })
        await runner.submit(hog, {})
        await eventually(() => expect(runner.activeRuns).toBe(1))
        return { runner, hold }
      }

      it('a run the poller executes (no slot was free) continues the trace of the span that submitted it', async () => {
        const f = flow(flowName('queued'))
          .andThen(step('work', () => 'done'))
          .build()
        const { runner, hold } = await busyRunner(f)

        const { runId, request } = await submitInRequest(runner, f, {})

        expect(await runRow(runId)).toMatchObject({ status: 'pending', owner: null, executions: 0 })
        expect(await storedTraceParent(runId)).toBe(`00-${request.traceId}-${request.spanId}-01`)
        hold.open()
        expect(await runner.wait(runId)).toMatchObject({ status: 'completed', executions: 1 })
        const [flowSpan, ...others] = spansOf(runId, `flow ${f.name}`)
        expect(others).toEqual([])
        expect(flowSpan!.spanContext().traceId).toBe(request.traceId)
        expect(flowSpan!.parentSpanContext?.spanId).toBe(request.spanId)
        expect(flowSpan!.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED)
        expect(flowSpan!.links).toEqual([])
        const [work] = spansOf(runId, 'step work')
        expect(work!.parentSpanContext?.spanId).toBe(flowSpan!.spanContext().spanId)
      })

      it('the steps of a run the poller executes log under their own span: trace_id and span_id', async () => {
        const logs = new LogCapture()
        const keelLog = createLogger({ level: 'info', format: 'json', destination: 'stdout', stream: logs })
        // What createTracing installs: the active span's ids for lines written outside requests.
        setSpanSource(() => {
          const ids = trace.getActiveSpan()?.spanContext()
          return ids ? { traceId: ids.traceId, spanId: ids.spanId } : undefined
        })
        try {
          const f = flow(flowName('logged'))
            .andThen(
              step('work', (_input: unknown, ctx) => {
                ctx.logger.info('working')
                return 'done'
              }),
            )
            .build()
          const { runner, hold } = await busyRunner(f, { logger: keelLog.root })
          const { runId, request } = await submitInRequest(runner, f, {})
          hold.open()
          await runner.wait(runId)

          const [work] = spansOf(runId, 'step work')
          const line = logs.records.find((r) => r.msg === 'working')
          expect(line).toMatchObject({
            run_id: runId,
            trace_id: request.traceId,
            span_id: work!.spanContext().spanId,
          })
          expect(line).not.toHaveProperty('request_id')
        } finally {
          setSpanSource(undefined)
        }
      })

      it('a run another runner submitted continues its trace on the runner that claims it', async () => {
        const f = flow(flowName('elsewhere'))
          .andThen(step('work', () => 'done'))
          .build()
        // Never started: it only stores runs, as a replica without free slots would.
        const submitter = new FlowRunner({ db, flows: [f], tracer })
        const { runId, request } = await submitInRequest(submitter, f, {})
        const worker = await startRunner({ flows: [f], tracer })

        expect(await worker.wait(runId)).toMatchObject({ status: 'completed', executions: 1 })
        const [flowSpan] = spansOf(runId, `flow ${f.name}`)
        expect(flowSpan!.spanContext().traceId).toBe(request.traceId)
        expect(flowSpan!.parentSpanContext).toMatchObject({ spanId: request.spanId, isRemote: true })
      })

      it('a run the poller claims runs outside the request whose run freed the slot: not in its trace nor its logs', async () => {
        const hold = gate()
        const hog = blocking(hold)
        let seen: RequestContext | undefined | 'not run' = 'not run'
        const f = flow(flowName('untraced'))
          .andThen(
            step('work', () => {
              seen = currentContext()
              return 'done'
            }),
          )
          .build()
        const runner = await startRunner({ flows: [hog, f], concurrency: 1, tracer })
        // The run holding the slot belongs to a request; when it ends, it wakes the poller.
        const { request: first } = await runWithContext({ requestId: 'req-first' }, () =>
          submitInRequest(runner, hog, {}),
        )
        await eventually(() => expect(runner.activeRuns).toBe(1))
        const { runId } = await runner.submit(f, {})

        expect(await storedTraceParent(runId)).toBeNull()
        hold.open()
        await runner.wait(runId)
        const [flowSpan] = spansOf(runId, `flow ${f.name}`)
        expect(flowSpan!.parentSpanContext).toBeUndefined()
        expect(flowSpan!.spanContext().traceId).not.toBe(first.traceId)
        expect(seen).toBeUndefined()
      })

      it('a later execution (woken after a sleep) starts its own trace, linked to the submitter', async () => {
        const f = flow(flowName('nap'))
          .andThen(step('before', () => 'slept'))
          .sleep('nap', 200)
          .andThen(step('after', (input: string) => `${input} and woke`))
          .build()
        const runner = await startRunner({ flows: [f], tracer })

        const { runId, request } = await submitInRequest(runner, f, {})
        const run = await runner.wait(runId)

        expect(run).toMatchObject({ status: 'completed', output: 'slept and woke', executions: 2 })
        const [first, second, ...others] = spansOf(runId, `flow ${f.name}`).sort(
          (a, b) => hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime),
        )
        expect(others).toEqual([])
        // Run at once in the request: under its span, as before.
        expect(first!.spanContext().traceId).toBe(request.traceId)
        expect(first!.parentSpanContext?.spanId).toBe(request.spanId)
        expect(first!.links).toEqual([])
        // The wake-up: a root of a trace of its own, linked to the request.
        expect(second!.parentSpanContext).toBeUndefined()
        expect(second!.spanContext().traceId).not.toBe(request.traceId)
        expect(second!.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
          [request.traceId, request.spanId],
        ])
        const [after] = spansOf(runId, 'step after')
        expect(after!.parentSpanContext?.spanId).toBe(second!.spanContext().spanId)
      })

      it('keeps the unsampled flag of a submitter that is recorded but not sampled', async () => {
        const f = flow(flowName('recorded'))
          .andThen(step('work', () => 'done'))
          .build()
        const { runner, hold } = await busyRunner(f, { tracer: recordingTracer })

        const { runId, request } = await submitInRequest(runner, f, {}, recordingTracer)

        expect(await storedTraceParent(runId)).toBe(`00-${request.traceId}-${request.spanId}-00`)
        hold.open()
        await runner.wait(runId)
        const [flowSpan] = spansOf(runId, `flow ${f.name}`)
        expect(flowSpan!.spanContext().traceId).toBe(request.traceId)
        expect(flowSpan!.parentSpanContext?.spanId).toBe(request.spanId)
        expect(flowSpan!.spanContext().traceFlags).toBe(TraceFlags.NONE)
      })

      it('stores no trace context without a tracer, outside any span, or under a span neither sampled nor recorded', async () => {
        const f = flow(flowName('plain'))
          .andThen(step('work', () => 'done'))
          .build()
        const untraced = await startRunner({ flows: [f] })
        const traced = await startRunner({ flows: [f], tracer })
        const unsampled = trace.wrapSpanContext({
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'b7ad6b7169203331',
          traceFlags: TraceFlags.NONE,
        })

        const { runId: withoutTracer } = await submitInRequest(untraced, f, {})
        const { runId: outsideSpans } = await traced.submit(f, {})
        const { runId: notRecorded } = await context.with(trace.setSpan(context.active(), unsampled), () =>
          traced.submit(f, {}),
        )

        for (const runId of [withoutTracer, outsideSpans, notRecorded]) {
          expect(await storedTraceParent(runId)).toBeNull()
        }
      })
    })
  })
}
