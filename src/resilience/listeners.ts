/**
 * A list of event listeners. A listener that throws must not change the outcome of the call it
 * observes, so its error becomes a process warning instead of the call's error.
 */
export class Listeners<E> {
  readonly #listeners = new Set<(event: E) => void>()

  get isEmpty(): boolean {
    return this.#listeners.size === 0
  }

  /** Adds `listener`; the returned function removes it. */
  add(listener: (event: E) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('a listener must be a function')
    // A wrapper per call makes adding the same function twice give two independent subscriptions.
    const entry = (event: E) => listener(event)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  emit(event: E): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        process.emitWarning(error instanceof Error ? error : String(error), {
          code: 'KEEL_RESILIENCE_LISTENER',
          detail: 'a resilience event listener threw; the call it observed was not affected',
        })
      }
    }
  }
}
