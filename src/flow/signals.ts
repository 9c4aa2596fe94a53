import type { Fault } from './outcome.ts'

// Control flow inside an execution. They unwind the tree walk and never reach user code.

/** A step faulted; the run compensates. */
export class FaultSignal {
  constructor(
    readonly fault: Fault,
    readonly step: string,
  ) {}
}

/** A step (or compensation) exhausted its retries; the run goes to the dead-letter list. */
export class DeadSignal {
  constructor(
    readonly step: string,
    readonly error: unknown,
    readonly phase: 'forward' | 'compensation',
  ) {}
}

/** The run is parked (durable sleep, or released while the worker drains) and stops here. */
export class SuspendSignal {}

/** Compensate-only replay reached a step that never completed: nothing below it to undo. */
export class SkipSignal {}

/** Strongest first: what a group of concurrent branches reports when several stop. */
export function strongest(reasons: readonly unknown[]): unknown {
  const rank = (r: unknown) =>
    r instanceof DeadSignal
      ? 1
      : r instanceof FaultSignal
        ? 2
        : r instanceof SuspendSignal
          ? 3
          : r instanceof SkipSignal
            ? 4
            : 0
  let best = reasons[0]
  for (const r of reasons) if (rank(r) < rank(best)) best = r
  return best
}
