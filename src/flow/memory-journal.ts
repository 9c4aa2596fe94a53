import type { Clock } from '../resilience/index.ts'
import type { Checkpoint, EventDraft, Journal, RunEnd, TimelineEvent } from './journal.ts'

/**
 * A journal that lives as long as one in-memory run: sleeps wait inline, nothing survives the
 * process. With `timeline: false` it records no events, for the hot path.
 */
export class MemoryJournal implements Journal {
  readonly timeline: TimelineEvent[] = []
  readonly #checkpoints = new Map<string, Checkpoint>()
  readonly #clock: Clock
  readonly #keepTimeline: boolean
  #seq = 0
  // Events count apart from checkpoints, so the timeline is numbered 1, 2, 3… as a durable run's is.
  #eventSeq = 0
  end: RunEnd | undefined

  constructor(clock: Clock, options: { timeline: boolean }) {
    this.#clock = clock
    this.#keepTimeline = options.timeline
  }

  get(key: string): Checkpoint | undefined {
    return this.#checkpoints.size === 0 ? undefined : this.#checkpoints.get(key)
  }

  /** Checkpoints recorded so far, in order. */
  get checkpoints(): Checkpoint[] {
    return [...this.#checkpoints.values()].sort((a, b) => a.seq - b.seq)
  }

  record(checkpoint: Omit<Checkpoint, 'seq'>, events: readonly EventDraft[]): number {
    const seq = ++this.#seq
    // Only compensations are looked up again within one in-memory execution; steps never replay.
    if (checkpoint.kind !== 'step' || checkpoint.status === 'faulted')
      this.#checkpoints.set(checkpoint.key, { ...checkpoint, seq })
    else if (this.#keepTimeline) this.#checkpoints.set(checkpoint.key, { ...checkpoint, seq })
    this.#add(events)
    return seq
  }

  get quiet(): boolean {
    return !this.#keepTimeline
  }

  note(events: readonly EventDraft[]): Promise<void> {
    this.#add(events)
    return Promise.resolve()
  }

  sleep(_key: string, _wakeAt: number, events: readonly EventDraft[]): Promise<'inline'> {
    this.#add(events)
    return Promise.resolve('inline')
  }

  finish(end: RunEnd, events: readonly EventDraft[]): Promise<void> {
    this.end = end
    this.#add(events)
    return Promise.resolve()
  }

  /** Adds the first event of a run. */
  start(input: unknown): void {
    this.#add([{ type: 'run.started', data: { input } }])
  }

  #add(events: readonly EventDraft[]): void {
    if (!this.#keepTimeline) return
    const now = this.#clock.now()
    for (const { at, ...event } of events)
      this.timeline.push({ seq: ++this.#eventSeq, at: at ?? now, ...event })
  }
}
