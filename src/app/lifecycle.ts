import { KeelError } from '../errors/index.ts'

/** The app's lifecycle: created → starting → ready → draining → stopped. */
export type LifecycleState = 'created' | 'starting' | 'ready' | 'draining' | 'stopped'

const allowed: Record<LifecycleState, readonly LifecycleState[]> = {
  created: ['starting', 'stopped'],
  starting: ['ready', 'draining', 'stopped'],
  ready: ['draining'],
  draining: ['stopped'],
  stopped: [],
}

/** A state change, as listeners receive it. */
export interface StateChange {
  from: LifecycleState
  to: LifecycleState
  at: Date
}

/** Holds the lifecycle state and tells listeners about every change; illegal moves throw. */
export class Lifecycle {
  #state: LifecycleState = 'created'
  readonly #listeners = new Set<(change: StateChange) => void>()

  get state(): LifecycleState {
    return this.#state
  }

  /** Moves to `to`. @throws KeelError `KEEL_APP_STATE` when the move is not allowed. */
  moveTo(to: LifecycleState): void {
    const from = this.#state
    if (!allowed[from].includes(to))
      throw new KeelError('KEEL_APP_STATE', `app cannot go from ${from} to ${to}`)
    this.#state = to
    const change = { from, to, at: new Date() }
    for (const listener of this.#listeners) listener(change)
  }

  /** Calls `listener` on every change; returns the function that unsubscribes it. */
  onChange(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
