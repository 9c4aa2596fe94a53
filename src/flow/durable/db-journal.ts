import { KeelError } from '../../errors/index.ts'
import type { Clock } from '../../resilience/index.ts'
import {
  type Checkpoint,
  type EventDraft,
  errorInfo,
  type Journal,
  type RunEnd,
  type TimelineEvent,
} from '../journal.ts'
import { DeadSignal } from '../signals.ts'
import type { FlowStore, RunChange } from './store.ts'

/**
 * The journal of one execution of a durable run. Every write is one statement fenced by the
 * worker's ownership of the run: once another worker has taken the run over (our lease ran
 * out), writes fail with `KEEL_FLOW_LEASE_LOST` and the execution stops.
 */
export class DbJournal implements Journal {
  readonly #store: FlowStore
  readonly #runId: string
  readonly #owner: string
  readonly #leaseMs: number
  readonly #clock: Clock
  readonly #checkpoints: Map<string, Checkpoint>
  #checkpointSeq: number
  #eventSeq: number
  /** True once a sleep parked the run: the execution stops, and {@link release} hands it back. */
  parked = false

  constructor(options: {
    store: FlowStore
    runId: string
    owner: string
    leaseMs: number
    clock: Clock
    checkpoints: readonly Checkpoint[]
    lastEventSeq: number
  }) {
    this.#store = options.store
    this.#runId = options.runId
    this.#owner = options.owner
    this.#leaseMs = options.leaseMs
    this.#clock = options.clock
    this.#checkpoints = new Map(options.checkpoints.map((c) => [c.key, c]))
    this.#checkpointSeq = options.checkpoints.reduce((max, c) => Math.max(max, c.seq), 0)
    this.#eventSeq = options.lastEventSeq
  }

  get(key: string): Checkpoint | undefined {
    return this.#checkpoints.get(key)
  }

  async record(draft: Omit<Checkpoint, 'seq'>, events: readonly EventDraft[]): Promise<number> {
    assertStorable(draft.key, draft.output ?? null, draft.fault ?? null, events)
    const checkpoint: Checkpoint = { ...draft, seq: ++this.#checkpointSeq }
    // A fault turns the run to compensation in the same write, so a crash right after it
    // resumes compensating instead of replaying into the fault again.
    const change: RunChange =
      draft.status === 'faulted' && draft.fault
        ? { status: 'compensating', fault: { value: draft.fault } }
        : {}
    await this.#commit(change, [checkpoint], events)
    this.#checkpoints.set(checkpoint.key, checkpoint)
    return checkpoint.seq
  }

  note(events: readonly EventDraft[]): Promise<void> {
    return this.#commit({}, [], events)
  }

  async sleep(key: string, wakeAt: number, events: readonly EventDraft[], again = false): Promise<'suspend'> {
    if (again) {
      await this.#commit({ status: 'sleeping', wakeAt }, [], events)
      this.parked = true
      return 'suspend'
    }
    const checkpoint: Checkpoint = {
      key,
      seq: ++this.#checkpointSeq,
      kind: 'sleep',
      status: 'completed',
      wakeAt,
    }
    // Not released here: parallel branches may still be running, and their checkpoints must
    // land. The runner releases the run once the execution has stopped.
    await this.#commit({ status: 'sleeping', wakeAt }, [checkpoint], events)
    this.parked = true
    return 'suspend'
  }

  finish(end: RunEnd, events: readonly EventDraft[]): Promise<void> {
    switch (end.status) {
      case 'completed':
        return this.#commit(
          { status: 'completed', output: { value: end.output }, release: true, finished: true },
          [],
          events,
        )
      case 'compensated':
      case 'discarded':
        return this.#commit(
          { status: end.status, fault: { value: end.fault }, release: true, finished: true },
          [],
          events,
        )
      case 'dead':
        return this.#commit(
          {
            status: 'dead',
            error: { value: { ...end.error, step: end.step, phase: end.phase } },
            release: true,
          },
          [],
          events,
        )
    }
  }

  /**
   * Gives the run back: parked by a sleep, it waits for its wake time; otherwise (the worker is
   * draining) it is unchanged and another worker resumes it.
   */
  release(): Promise<void> {
    const events = this.parked ? [] : [{ type: 'run.released' as const, data: { worker: this.#owner } }]
    return this.#commit({ release: true }, [], events)
  }

  async #commit(
    change: RunChange,
    checkpoints: readonly Checkpoint[],
    drafts: readonly EventDraft[],
  ): Promise<void> {
    const now = this.#clock.now()
    const events: TimelineEvent[] = drafts.map(({ at, ...event }) => ({
      seq: ++this.#eventSeq,
      at: at ?? now,
      ...event,
    }))
    const owned = await this.#store.commit(
      this.#runId,
      this.#owner,
      this.#leaseMs,
      change,
      checkpoints,
      events,
    )
    if (!owned) {
      throw new KeelError(
        'KEEL_FLOW_LEASE_LOST',
        `run ${this.#runId} is no longer owned by worker ${this.#owner}; another worker resumes it`,
      )
    }
  }
}

/**
 * A value PostgreSQL cannot store (a bigint, a NUL character in a string, a cycle) would fail the
 * write on every resume and loop the run forever, repeating its effects. Checked before the
 * write instead, the run goes dead at once, naming the step.
 */
function assertStorable(key: string, ...values: unknown[]): void {
  let json: string
  try {
    json = JSON.stringify(values)
  } catch (error) {
    throw new DeadSignal(
      key,
      new KeelError(
        'KEEL_FLOW_INVALID',
        `step "${key}" produced a value JSON cannot hold: ${errorInfo(error).message}`,
      ),
      'forward',
    )
  }
  // JSON writes NUL as \u0000; an even run of backslashes before it is text, not the escape.
  if (/(?:^|[^\\])(?:\\\\)*\\u0000/.test(json)) {
    throw new DeadSignal(
      key,
      new KeelError(
        'KEEL_FLOW_INVALID',
        `step "${key}" produced a string with a NUL character, which PostgreSQL cannot store`,
      ),
      'forward',
    )
  }
}
