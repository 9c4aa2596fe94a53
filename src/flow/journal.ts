import type { Fault } from './outcome.ts'

/** A recorded step result: what a resumed run replays instead of running the step again. */
export interface Checkpoint {
  readonly key: string
  /** Order of recording within the run; compensation runs in reverse. */
  readonly seq: number
  readonly kind: 'step' | 'compensation' | 'sleep'
  readonly status: 'completed' | 'faulted'
  readonly output?: unknown
  /** The path a deciding step chose. */
  readonly path?: string
  readonly fault?: Fault
  /** Epoch ms a sleep ends at. */
  readonly wakeAt?: number
}

/** What happened in a run, in order. */
export type TimelineEventType =
  | 'run.started'
  | 'run.resumed'
  | 'step.completed'
  | 'step.faulted'
  | 'step.attempt_failed'
  | 'step.dead'
  | 'branch.taken'
  | 'event.emitted'
  | 'sleep.started'
  | 'compensation.started'
  | 'step.compensated'
  | 'compensation.attempt_failed'
  | 'run.completed'
  | 'run.compensated'
  | 'run.discarded'
  | 'run.dead'
  | 'run.retried'
  | 'run.released'

/** A serialisable error: never a stack (stacks go to the log). */
export interface ErrorInfo {
  readonly name: string
  readonly message: string
  readonly code?: string
}

/** One entry of a run's timeline. */
export interface TimelineEvent {
  readonly seq: number
  /** Epoch ms. */
  readonly at: number
  readonly type: TimelineEventType
  readonly step?: string
  readonly attempt?: number
  readonly durationMs?: number
  readonly error?: ErrorInfo
  readonly data?: unknown
}

/** An event before the journal gives it a place in the timeline. */
export type EventDraft = Omit<TimelineEvent, 'seq' | 'at'> & { at?: number }

/**
 * How a run ended (or went dead). The journal stores the error's summary (`ErrorInfo`); the
 * executor hands the error itself to its caller (`RunEnd<unknown>`).
 */
export type RunEnd<E = ErrorInfo> =
  | { readonly status: 'completed'; readonly output: unknown }
  | { readonly status: 'compensated' | 'discarded'; readonly fault: Fault }
  | {
      readonly status: 'dead'
      readonly step: string
      readonly phase: 'forward' | 'compensation'
      readonly error: E
    }

/**
 * Where an execution records its progress. The in-memory journal keeps it for one call; the
 * durable journal writes each record to PostgreSQL in one statement, fenced by the worker's
 * lease, so a worker that lost the run can no longer write.
 */
export interface Journal {
  /** True when the journal keeps no events: the executor then builds none. */
  readonly quiet?: boolean
  /** The checkpoint of `key` when the execution began (replay), or recorded since. */
  get(key: string): Checkpoint | undefined
  /** A step finished (completed or faulted), with the events to add; returns the checkpoint's seq. */
  record(checkpoint: Omit<Checkpoint, 'seq'>, events: readonly EventDraft[]): number | Promise<number>
  /** Events without a checkpoint (a failed attempt). Best effort: a lost event loses no state. */
  note(events: readonly EventDraft[]): Promise<void>
  /**
   * Starts the durable timer `key` (`again`: it was started before and still has time left). `inline` means wait here (in memory); `suspend` means the
   * run was parked until `wakeAt` and the execution must stop.
   */
  sleep(
    key: string,
    wakeAt: number,
    events: readonly EventDraft[],
    again?: boolean,
  ): Promise<'inline' | 'suspend'>
  /** The run ended, or went dead. */
  finish(end: RunEnd, events: readonly EventDraft[]): Promise<void>
}

/** Turns anything thrown into its serialisable summary. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const message = storableText(error.message)
    return typeof code === 'string' ? { name: error.name, message, code } : { name: error.name, message }
  }
  return { name: 'Error', message: storableText(String(error)) }
}

/** PostgreSQL text and jsonb refuse NUL; an error message carrying one must not fail the write. */
const storableText = (text: string) => text.replaceAll('\u0000', '\uFFFD')
