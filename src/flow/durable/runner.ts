import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Tracer } from '@opentelemetry/api'
import { pino } from 'pino'
import type { Registry } from 'prom-client'
import { type Db, migrate } from '../../data/index.ts'
import { isKeelError, KeelError } from '../../errors/index.ts'
import type { Logger } from '../../log/index.ts'
import { type Clock, systemClock } from '../../resilience/index.ts'
import { Bus } from '../bus.ts'
import { Execution, type ExecutionResult, type StepGate, type StepInterceptor } from '../executor.ts'
import type { AnyFlow, Flow } from '../flow.ts'
import { checkFlowInput } from '../input-check.ts'
import { errorInfo, type TimelineEvent } from '../journal.ts'
import { type FlowMetrics, flowMetrics } from '../metrics.ts'
import { DbJournal } from './db-journal.ts'
import { flowMigrations } from './schema.ts'
import { type ClaimedRun, FlowStore, type RunInfo, type RunStatus } from './store.ts'
import { activeTraceParent, executionSpan } from './trace-parent.ts'

/** Options of {@link FlowRunner}. */
export interface FlowRunnerOptions {
  readonly db: Db
  readonly flows: readonly AnyFlow[]
  /** Process resources steps read with `ctx.get(key)` (clients, the db). */
  readonly bus?: Bus
  /** Runs this process executes at once. Default 16. */
  readonly concurrency?: number
  /**
   * How long a claimed run stays this worker's without a heartbeat. After a crash, other
   * workers resume its runs once this runs out. Default 15 000 ms; heartbeats every third.
   */
  readonly leaseMs?: number
  /** How often to look for runs that are due (resumed, woken, submitted elsewhere). Default 500 ms. */
  readonly pollMs?: number
  /**
   * A run found still running this many times (its worker died or lost it each time) goes dead
   * instead of being resumed again: something in it kills workers. Default 10.
   */
  readonly maxResumes?: number
  /** Names this worker in leases and timelines. Default `<host>:<pid>:<random>`. */
  readonly workerId?: string
  readonly clock?: Clock
  readonly logger?: Logger
  readonly registry?: Registry
  readonly tracer?: Tracer
  /** @internal the test kit's fault injection */
  readonly intercept?: StepInterceptor
}

/** Options of {@link FlowRunner.submit}. */
export interface SubmitOptions {
  /** Your id for the run (an order id): submitting the same id twice starts one run. */
  readonly runId?: string
  /** Run-scoped values; keys declared with `persist: true` are stored and survive a resume. */
  readonly bus?: Bus
}

/** Final statuses: the run will not move again unless an operator retries, resumes or discards it. */
const finalStatuses: readonly RunStatus[] = ['completed', 'compensated', 'discarded', 'dead']

const silent = pino({ level: 'silent' })

/**
 * Runs a function outside every request: the async context of this module's loading, at startup.
 * A poll is scheduled from wherever a run ended or an operator acted, and would otherwise run
 * (and claim and execute runs) inside that request's context: its spans and log fields.
 */
const outsideRequests = AsyncLocalStorage.snapshot()

/** How long `stop()` still waits, once signals abort, for steps to notice. */
const abortGraceMs = 1_000

/** A run submitted in this process: its full bus (resources too), and nothing to replay. */
interface Local {
  readonly bus: Bus
}

/**
 * Runs flows durably on PostgreSQL (or PGlite): each step's outcome is checkpointed with the run
 * state in one statement; after a crash, any worker on the same database resumes the run from
 * its last checkpoint once the dead worker's lease runs out. Several workers may share a
 * database: claims use `for update skip locked`, and every write is fenced by ownership.
 *
 * @example
 * ```ts
 * const runner = new FlowRunner({ db, flows: [orderFlow], bus: Bus.empty.with(Payments, payments) })
 * await runner.start()
 * const { runId } = await runner.submit(orderFlow, input, { runId: order.id })
 * const run = await runner.wait(runId, { timeoutMs: 30_000 })
 * ```
 */
export class FlowRunner {
  readonly store: FlowStore
  readonly workerId: string
  readonly #flows = new Map<string, AnyFlow>()
  readonly #bus: Bus
  readonly #concurrency: number
  readonly #leaseMs: number
  readonly #pollMs: number
  readonly #maxResumes: number
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #metrics: FlowMetrics | undefined
  readonly #tracer: Tracer | undefined
  readonly #intercept: StepInterceptor | undefined
  #beforeStep: StepGate | undefined
  /** Runs executing here, with the controller that stops them. */
  readonly #active = new Map<string, { controller: AbortController; done: Promise<void> }>()
  readonly #waiters = new Map<string, Set<(run: RunInfo) => void>>()
  readonly #listeners = new Set<
    (event: { runId: string; flow: string; event: string; payload: unknown }) => void
  >()
  readonly #warnedVersions = new Set<string>()
  /** Slots promised to submits whose insert is still in flight. */
  #reserved = 0
  /** Set when runs may be waiting in the database (a submit found no slot, a claim came back full). */
  #backlog = false
  /** A submit found every slot held by an in-flight claim; poll again as soon as it answers. */
  #bounced = false
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle'
  #pollTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #polling: Promise<void> | undefined

  constructor(options: FlowRunnerOptions) {
    for (const flow of options.flows) {
      if (this.#flows.has(flow.name))
        throw new KeelError('KEEL_FLOW_INVALID', `two flows are named "${flow.name}"`)
      this.#flows.set(flow.name, flow)
    }
    this.store = new FlowStore(options.db)
    this.#bus = options.bus ?? Bus.empty
    this.#concurrency = positive('concurrency', options.concurrency ?? 16)
    this.#leaseMs = positive('leaseMs', options.leaseMs ?? 15_000)
    this.#pollMs = positive('pollMs', options.pollMs ?? 500)
    this.#maxResumes = positive('maxResumes', options.maxResumes ?? 10)
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    this.#clock = options.clock ?? systemClock
    this.#logger = options.logger ?? silent
    this.#metrics = options.registry ? flowMetrics(options.registry) : undefined
    this.#tracer = options.tracer
    this.#intercept = options.intercept
  }

  /**
   * Puts `gate` in front of every step that runs here from now on (runs already executing keep
   * theirs); `undefined` removes it. A gate that waits holds the run's slot, and its lease is
   * renewed meanwhile: meant for development (the inspector's breakpoints).
   */
  gateSteps(gate: StepGate | undefined): void {
    this.#beforeStep = gate
  }

  /** The flows this runner executes. */
  get flows(): readonly AnyFlow[] {
    return [...this.#flows.values()]
  }

  /** Runs executing in this process now. */
  get activeRuns(): number {
    return this.#active.size
  }

  /** Creates the tables if needed and starts claiming due runs (resuming what crashed). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new KeelError('KEEL_APP_STATE', `the flow runner is ${this.#state}`)
    await migrate(this.store.db, 'keel_flow', flowMigrations)
    this.#state = 'running'
    this.#heartbeatTimer = setInterval(
      () => void this.#heartbeat(),
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    )
    this.#heartbeatTimer.unref()
    this.#schedulePoll(0)
  }

  /**
   * Stops claiming, lets running steps finish and parks their runs for another worker (or the
   * next start). After `deadlineMs` the steps' signals abort; their runs resume elsewhere once
   * the lease runs out. A step that ignores its signal does not hold `stop()` up: after a short
   * grace it is left behind without heartbeats, so its lease runs out all the same.
   */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'idle') {
      this.#state = 'stopped'
      return
    }
    this.#state = 'stopping'
    clearTimeout(this.#pollTimer)
    await this.#polling
    const all = Promise.all([...this.#active.values()].map((a) => a.done))
    let timer: NodeJS.Timeout | undefined
    const abandoned = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const { controller } of this.#active.values()) {
          controller.abort(
            new KeelError('KEEL_APP_STATE', 'the flow runner stopped before the step finished'),
          )
        }
        timer = setTimeout(resolve, abortGraceMs)
      }, deadlineMs)
    })
    await Promise.race([all, abandoned])
    clearTimeout(timer)
    clearInterval(this.#heartbeatTimer)
    this.#state = 'stopped'
  }

  /**
   * Starts a run. It is stored before this resolves; it executes here when there is capacity,
   * otherwise the next free worker picks it up. With a `runId` that exists, nothing new starts
   * (`created: false`).
   */
  async submit<I>(
    flow: Flow<I, unknown>,
    input: I,
    options: SubmitOptions = {},
  ): Promise<{ runId: string; created: boolean }> {
    const known = this.#flows.get(flow.name)
    if (!known) throw new KeelError('KEEL_FLOW_UNKNOWN', `this runner does not run flow "${flow.name}"`)
    checkFlowInput(known, input)
    const runId = options.runId ?? randomUUID()
    const runHere = this.#state === 'running' && this.#active.size + this.#reserved < this.#concurrency
    const context = options.bus?.persisted() ?? {}
    if (runHere) this.#reserved++
    let created: boolean
    try {
      created = await this.store.insert({
        id: runId,
        flow: flow.name,
        version: known.version,
        input,
        context,
        owner: runHere ? this.workerId : undefined,
        leaseMs: this.#leaseMs,
        // Whoever executes the run later (the poller, another replica) continues this trace.
        traceParent: this.#tracer ? activeTraceParent() : undefined,
      })
    } finally {
      if (runHere) this.#reserved--
    }
    if (created && !runHere) {
      this.#backlog = true
      // Refused a slot only because a claim holds them for a moment: claim again right after it.
      if (this.#state === 'running') this.#bounced = true
    }
    if (created && runHere) {
      this.#launch(
        {
          id: runId,
          flow: flow.name,
          version: known.version,
          status: 'running',
          input: jsonRoundTrip(input),
          context,
          executions: 1,
          resumes: 0,
          createdAt: new Date(),
          updatedAt: new Date(),
        },
        { bus: options.bus ?? Bus.empty },
      )
    }
    return { runId, created }
  }

  /** Submits and waits for the run to end (see {@link wait}). */
  async run<I>(
    flow: Flow<I, unknown>,
    input: I,
    options: SubmitOptions & { timeoutMs?: number } = {},
  ): Promise<RunInfo> {
    const { runId } = await this.submit(flow, input, options)
    return this.wait(runId, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
  }

  /**
   * Resolves when the run is final (completed, compensated, discarded or dead). Runs executing
   * here resolve at once; others are polled. Rejects with `KEEL_TIMEOUT` after `timeoutMs`, and
   * with the signal's reason when `signal` aborts (the caller went away: stop polling for it).
   */
  async wait(runId: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunInfo> {
    options.signal?.throwIfAborted()
    const timeoutMs = options.timeoutMs ?? 30_000
    const local = this.#active.has(runId)
    if (!local) {
      const current = await this.get(runId)
      if (!current)
        throw new KeelError('KEEL_FLOW_RUN_NOT_FOUND', `no flow run has id "${runId}"`, { status: 404 })
      if (finalStatuses.includes(current.status)) return current
    }
    return new Promise<RunInfo>((resolve, reject) => {
      let settled = false
      const waiters = this.#waiters.get(runId) ?? new Set()
      this.#waiters.set(runId, waiters)
      const finish = (run: RunInfo | Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        clearInterval(poll)
        options.signal?.removeEventListener('abort', onAbort)
        waiters.delete(onRun)
        if (waiters.size === 0) this.#waiters.delete(runId)
        if (run instanceof Error) reject(run)
        else resolve(run)
      }
      const onRun = (run: RunInfo) => finish(run)
      const onAbort = () => finish(options.signal?.reason ?? new Error('aborted'))
      options.signal?.addEventListener('abort', onAbort, { once: true })
      waiters.add(onRun)
      const timer = setTimeout(
        () =>
          finish(
            new KeelError('KEEL_TIMEOUT', `run ${runId} did not finish within ${timeoutMs} ms`, {
              status: 504,
            }),
          ),
        timeoutMs,
      )
      // Runs executing on another worker (or parked, then resumed elsewhere) only show up in the
      // database; a run executing here notifies at once, so the poll is slow.
      const poll = setInterval(
        async () => {
          const run = await this.get(runId).catch(() => undefined)
          if (run && finalStatuses.includes(run.status)) finish(run)
        },
        local ? 1_000 : 250,
      )
      // A waiter is not work in progress: it must not keep the process alive.
      timer.unref()
      poll.unref()
    })
  }

  get(runId: string): Promise<RunInfo | undefined> {
    return this.store.get(runId)
  }

  /** The run's events in order: steps, attempts, branches, sleeps, compensations. */
  timeline(runId: string): Promise<TimelineEvent[]> {
    return this.store.timeline(runId)
  }

  list(filter: { status?: RunStatus; flow?: string; limit?: number } = {}): Promise<RunInfo[]> {
    return this.store.list({ ...filter, limit: filter.limit ?? 100 })
  }

  /** Runs that exhausted their retries, newest first. */
  deadLetters(filter: { flow?: string; limit?: number } = {}): Promise<RunInfo[]> {
    return this.list({ ...filter, status: 'dead' })
  }

  /**
   * Gives a dead run a fresh set of attempts at the step that gave up (forward, or in its
   * compensation), after the cause was fixed.
   */
  async retry(runId: string): Promise<void> {
    const run = await this.#mustGet(runId, ['dead'])
    const status: RunStatus = run.error?.phase === 'compensation' ? 'compensating' : 'pending'
    await this.#transition(
      runId,
      ['dead'],
      { status },
      { type: 'run.retried', data: { step: run.error?.step } },
    )
  }

  /**
   * Continues a dead run past the step that gave up, with `output` as if the step had
   * returned it (an operator did the step by hand). Only for a run dead going forward.
   */
  async resume(runId: string, output: unknown): Promise<void> {
    const run = await this.#mustGet(runId, ['dead'])
    if (run.error?.phase !== 'forward') {
      throw new KeelError(
        'KEEL_FLOW_RUN_STATE',
        `run ${runId} died compensating; retry or discard it instead`,
        {
          status: 409,
        },
      )
    }
    // Only a plain step can be given an output: a decider also needs a path, and a map or sleep
    // that died has no step to stand in for.
    const step = this.#flows.get(run.flow)?.steps.get(run.error.step.replace(/\[\d+\]/g, ''))
    if (!step || step.options.paths) {
      throw new KeelError(
        'KEEL_FLOW_RUN_STATE',
        `run ${runId} died at "${run.error.step}", which is not a plain step of flow "${run.flow}"; retry or discard it instead`,
        { status: 409 },
      )
    }
    await this.#transition(
      runId,
      ['dead'],
      { status: 'pending' },
      { type: 'run.retried', data: { step: run.error.step, resumedWithOutput: true } },
      { key: run.error.step, kind: 'step', status: 'completed', output },
    )
  }

  /**
   * Gives up a run that is dead, pending or sleeping. With `compensate` (the default) its
   * completed steps are undone first and it ends `discarded`; without, it ends at once.
   */
  async discard(runId: string, options: { compensate?: boolean } = {}): Promise<void> {
    const from: RunStatus[] = ['dead', 'pending', 'sleeping']
    await this.#mustGet(runId, from)
    const fault = { code: 'discarded', message: 'the run was discarded by an operator' }
    if (options.compensate ?? true) {
      await this.#transition(
        runId,
        from,
        { status: 'compensating', fault },
        { type: 'run.retried', data: { discard: true } },
      )
    } else {
      await this.#transition(
        runId,
        from,
        { status: 'discarded', fault, finished: true },
        { type: 'run.discarded' },
      )
      this.#notify(runId)
    }
  }

  /** Listens to events steps emit (`Outcome.emit`), from runs executing in this process. */
  onEvent(
    listener: (event: { runId: string; flow: string; event: string; payload: unknown }) => void,
  ): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #mustGet(runId: string, from: readonly RunStatus[]): Promise<RunInfo> {
    const run = await this.get(runId)
    if (!run) throw new KeelError('KEEL_FLOW_RUN_NOT_FOUND', `no flow run has id "${runId}"`, { status: 404 })
    if (!from.includes(run.status)) {
      throw new KeelError(
        'KEEL_FLOW_RUN_STATE',
        `run ${runId} is ${run.status}; this needs ${from.join(' or ')}`,
        {
          status: 409,
        },
      )
    }
    return run
  }

  async #transition(...args: Parameters<FlowStore['transition']>): Promise<void> {
    const changed = await this.store.transition(...args)
    if (!changed) {
      throw new KeelError('KEEL_FLOW_RUN_STATE', `run ${args[0]} changed state meanwhile; look at it again`, {
        status: 409,
      })
    }
    if (this.#state === 'running') this.#schedulePoll(0)
  }

  #schedulePoll(delayMs: number): void {
    clearTimeout(this.#pollTimer)
    if (this.#state !== 'running') return
    this.#pollTimer = setTimeout(
      () =>
        outsideRequests(() => {
          this.#polling = this.#poll().finally(() => {
            this.#polling = undefined
          })
        }),
      delayMs,
    )
    this.#pollTimer.unref()
  }

  async #poll(): Promise<void> {
    let full = false
    try {
      const capacity = this.#concurrency - this.#active.size - this.#reserved
      if (capacity > 0 && this.#state === 'running') {
        // The slots are this claim's until it answers: a submit meanwhile must not run here too.
        this.#reserved += capacity
        let runs: ClaimedRun[]
        try {
          runs = await this.store.claim(
            this.workerId,
            [...this.#flows.keys()],
            capacity,
            this.#leaseMs,
            this.#clock.now(),
            [...this.#active.keys()],
          )
        } finally {
          this.#reserved -= capacity
        }
        // The claim excluded what was executing when it was sent, but a pooled connection may send
        // it later: a run that started here meanwhile (and whose lease a pause let lapse) can come
        // back. It is ours either way; never start it twice.
        for (const run of runs) if (!this.#active.has(run.id)) this.#launch(run)
        full = runs.length === capacity
        this.#backlog = full
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'claiming flow runs failed')
    }
    const again = full || this.#bounced
    this.#bounced = false
    this.#schedulePoll(again ? 0 : this.#pollMs)
  }

  async #heartbeat(): Promise<void> {
    // The executions as they are now: by the time the answer comes, a run may have parked and
    // started again here, and that new execution must not be stopped for the old one's lease.
    const executing = [...this.#active]
    if (executing.length === 0) return
    try {
      const kept = await this.store.heartbeat(
        this.workerId,
        executing.map(([id]) => id),
        this.#leaseMs,
      )
      for (const [id, { controller }] of executing) {
        if (kept.has(id)) continue
        controller.abort(new KeelError('KEEL_FLOW_LEASE_LOST', `run ${id} was taken over by another worker`))
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'flow run heartbeat failed; leases may run out')
    }
  }

  #launch(run: ClaimedRun, local?: Local): void {
    const controller = new AbortController()
    const done = this.#execute(run, controller, local).finally(() => {
      // Only this execution's entry: the run may already be executing here again.
      if (this.#active.get(run.id)?.controller === controller) this.#active.delete(run.id)
      if (this.#backlog && this.#state === 'running') this.#schedulePoll(0)
    })
    this.#active.set(run.id, { controller, done })
  }

  async #execute(run: ClaimedRun, controller: AbortController, local: Local | undefined): Promise<void> {
    const flow = this.#flows.get(run.flow)!
    const log = this.#logger
    if (run.version !== flow.version && !this.#warnedVersions.has(run.version)) {
      this.#warnedVersions.add(run.version)
      log.warn(
        { flow: flow.name, run_id: run.id, stored_version: run.version, version: flow.version },
        'resuming a run started with another version of its flow; checkpoints are matched by step name',
      )
    }
    try {
      // A run submitted here a moment ago has nothing to replay but its start event.
      const { checkpoints, lastEventSeq } = local
        ? { checkpoints: [], lastEventSeq: 1 }
        : await this.store.load(run.id)
      const journal = new DbJournal({
        store: this.store,
        runId: run.id,
        owner: this.workerId,
        leaseMs: this.#leaseMs,
        clock: this.#clock,
        checkpoints,
        lastEventSeq,
      })
      if (run.executions > 1) {
        await journal.note([
          {
            type: 'run.resumed',
            data: { worker: this.workerId, execution: run.executions, resumes: run.resumes },
          },
        ])
      }
      if (run.resumes > this.#maxResumes) {
        const error = new KeelError(
          'KEEL_FLOW_DEAD',
          `run ${run.id} was found still running ${run.resumes} times: each worker running it died or lost it`,
        )
        const step = checkpoints.length > 0 ? '(after the last checkpoint)' : '(start)'
        await journal.finish(
          {
            status: 'dead',
            step,
            phase: run.status === 'compensating' ? 'compensation' : 'forward',
            error: errorInfo(error),
          },
          [{ type: 'run.dead', error: errorInfo(error) }],
        )
        this.#notify(run.id)
        return
      }
      const bus = this.#bus.merge(local?.bus ?? Bus.fromPersisted(run.context))
      const execution = new Execution({
        runId: run.id,
        flow,
        journal,
        bus,
        clock: this.#clock,
        logger: log,
        signal: controller.signal,
        mode: run.status === 'compensating' ? 'compensate' : 'forward',
        ...(run.fault ? { fault: run.fault } : {}),
        ...(this.#metrics ? { metrics: this.#metrics } : {}),
        ...(this.#tracer ? { tracer: this.#tracer } : {}),
        // A run submitted here runs in the submitter's context; a claimed one must not take the
        // context of whatever woke the poller, but the submitter's stored one.
        ...(this.#tracer && !local ? executionSpan(run.traceParent, run.executions) : {}),
        ...(this.#intercept ? { intercept: this.#intercept } : {}),
        ...(this.#beforeStep ? { beforeStep: this.#beforeStep } : {}),
        onEvent: (event, payload) => {
          for (const listener of this.#listeners) listener({ runId: run.id, flow: flow.name, event, payload })
        },
        shouldYield: () => this.#state !== 'running',
      })
      const result: ExecutionResult = await execution.run(run.input)
      if (result.status === 'suspended') {
        await journal.release()
        return
      }
      this.#notify(run.id, finalInfo(run, result))
    } catch (error) {
      if (isKeelError(error) && error.code === 'KEEL_FLOW_LEASE_LOST') {
        log.warn({ run_id: run.id, flow: run.flow }, error.message)
        return
      }
      if (controller.signal.aborted) {
        log.warn(
          { run_id: run.id, flow: run.flow, reason: String(controller.signal.reason) },
          'flow run interrupted',
        )
        return
      }
      // The database failed under us: the lease runs out and a worker resumes the run.
      log.error(
        { err: error, run_id: run.id, flow: run.flow },
        'flow run execution failed; it resumes after its lease',
      )
    }
  }

  #notify(runId: string, run?: RunInfo): void {
    const waiters = this.#waiters.get(runId)
    if (!waiters || waiters.size === 0) return
    const deliver = (info: RunInfo | undefined) => {
      if (info) for (const waiter of [...waiters]) waiter(info)
    }
    if (run) deliver(run)
    else void this.get(runId).then(deliver, () => {})
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`flow runner ${name} must be an integer >= 1 (got ${value})`)
  return value
}

/** The run as it now stands in the database, without reading it back. */
function finalInfo(run: RunInfo, result: Exclude<ExecutionResult, { status: 'suspended' }>): RunInfo {
  const now = new Date()
  const base = { ...run, updatedAt: now }
  delete (base as { owner?: string }).owner
  switch (result.status) {
    case 'completed':
      return { ...base, status: 'completed', output: jsonRoundTrip(result.output), finishedAt: now }
    case 'compensated':
    case 'discarded':
      return { ...base, status: result.status, fault: result.fault, finishedAt: now }
    case 'dead':
      return {
        ...base,
        status: 'dead',
        error: { ...errorInfo(result.error), step: result.step, phase: result.phase },
      }
  }
}

/** A locally started run sees its input as a resumed one would: through JSON. */
const jsonRoundTrip = (value: unknown): unknown =>
  value === undefined ? null : JSON.parse(JSON.stringify(value))
