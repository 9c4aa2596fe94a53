import { KeelError } from '../errors/index.ts'

/**
 * A typed key on the {@link Bus}. `persist: true` marks a run-scoped JSON value (tenant,
 * principal) that is stored with a durable run and restored when it resumes; other keys hold
 * process resources (db, clients) that the runner provides again after a restart.
 */
export interface BusKey<T> {
  readonly name: string
  readonly persist: boolean
  /** Phantom field carrying the value type; never set. */
  readonly __type?: T
}

/** Declares a bus key. */
export function busKey<T>(name: string, options: { persist?: boolean } = {}): BusKey<T> {
  if (!/^[A-Za-z][\w.-]*$/.test(name)) throw new TypeError(`bus key name "${name}" must be an identifier`)
  return { name, persist: options.persist ?? false }
}

/**
 * The typed, immutable context a flow run carries: request-scoped values (tenant, principal) and
 * resources (db, payment client). Reading a key nobody provided fails with its name.
 *
 * @example
 * ```ts
 * const Payments = busKey<PaymentsClient>('payments')
 * const bus = Bus.empty.with(Payments, client)
 * // in a step: ctx.get(Payments).charge(...)
 * ```
 */
export class Bus {
  static readonly empty = new Bus(new Map())
  readonly #values: ReadonlyMap<string, Entry>

  private constructor(values: ReadonlyMap<string, Entry>) {
    this.#values = values
  }

  /** A new bus with `key` set; this one is unchanged. */
  with<T>(key: BusKey<T>, value: T): Bus {
    const values = new Map(this.#values)
    values.set(key.name, { value, persist: key.persist })
    return new Bus(values)
  }

  /** Values of `other` win over this bus's. */
  merge(other: Bus): Bus {
    if (other.#values.size === 0) return this
    if (this.#values.size === 0) return other
    return new Bus(new Map([...this.#values, ...other.#values]))
  }

  has(key: BusKey<unknown>): boolean {
    return this.#values.has(key.name)
  }

  /** The value of `key`; throws `KEEL_FLOW_BUS_MISSING` naming the key when it was never set. */
  get<T>(key: BusKey<T>): T {
    if (!this.#values.has(key.name)) {
      throw new KeelError(
        'KEEL_FLOW_BUS_MISSING',
        `the bus has no "${key.name}": provide it when starting the run or on the runner`,
      )
    }
    return this.#values.get(key.name)?.value as T
  }

  /** The values of persistent keys, to store as JSON with a durable run. */
  persisted(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [name, entry] of this.#values) if (entry.persist) out[name] = entry.value
    return out
  }

  /** Rebuilds the persistent values read back from a stored run. */
  static fromPersisted(values: Record<string, unknown>): Bus {
    return new Bus(new Map(Object.entries(values).map(([name, value]) => [name, { value, persist: true }])))
  }
}

interface Entry {
  readonly value: unknown
  readonly persist: boolean
}
