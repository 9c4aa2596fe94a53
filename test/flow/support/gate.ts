/**
 * A point a step waits at until the test opens it. Opening is idempotent; `opened` says
 * whether it was. Steps that wait here ignore their abort signal on purpose: they stand for
 * work the runner cannot interrupt.
 */
export class Gate {
  readonly promise: Promise<void>
  #open!: () => void
  #isOpen = false

  constructor() {
    this.promise = new Promise<void>((resolve) => {
      this.#open = resolve
    })
  }

  get isOpen(): boolean {
    return this.#isOpen
  }

  open(): void {
    this.#isOpen = true
    this.#open()
  }
}
