import type { Static, TSchema } from '@sinclair/typebox'
import type { FlowNode } from './nodes.ts'
import { describeFlow, type FlowSchematic } from './schematic.ts'
import type { AnyStep, Step } from './step.ts'
import { validateFlow } from './validate.ts'

/** A built flow: an immutable, validated tree of steps with typed input `I` and output `O`. */
export interface Flow<I, O> {
  readonly kind: 'flow'
  readonly name: string
  /** Hash of the schematic; stored with durable runs to notice a changed definition. */
  readonly version: string
  readonly description: string | undefined
  readonly input: TSchema | undefined
  readonly nodes: readonly FlowNode[]
  /** Every step of the flow (deciders and compensable steps included), by name. */
  readonly steps: ReadonlyMap<string, AnyStep>
  /** The graph: nodes, edges and JSON Schemas (see `keel flows export`). */
  describe(): FlowSchematic
  /** Phantom fields carrying the types; never set. */
  readonly __in?: (input: I) => void
  readonly __out?: O
}

// biome-ignore lint/suspicious/noExplicitAny: the erased form the runner keeps in its registry
export type AnyFlow = Flow<any, any>

/** A step or a whole flow, taking `I` and producing `O`. */
// biome-ignore lint/suspicious/noExplicitAny: branch path names do not matter where a unit is embedded
export type Unit<I, O> = Step<I, O, any> | Flow<I, O>

type OutputOf<U> = U extends Step<never, infer O, string> ? O : U extends Flow<never, infer O> ? O : never
// Not `never` for a non-list: a body taking `never` would accept any step, and `map` needs a list.
type ElementOf<T> = T extends readonly (infer E)[] ? E : { readonly 'map needs a list, not': T }

/**
 * An immutable builder: every method returns a new builder, so a partial flow can be shared
 * and extended in two directions without either seeing the other's steps.
 */
export class FlowBuilder<I, O> {
  readonly #name: string
  readonly #options: FlowOptions
  readonly #nodes: readonly FlowNode[]

  constructor(name: string, options: FlowOptions, nodes: readonly FlowNode[] = []) {
    this.#name = name
    this.#options = options
    this.#nodes = nodes
  }

  /**
   * Runs `next` (a step or a whole flow) on this output. Not named `then`: a builder with a
   * `then` method would be a thenable, and `await`ing or returning it from an async function
   * would call it.
   */
  andThen<N>(next: Unit<O, N>): FlowBuilder<I, N> {
    return this.#add(...unitNodes(next))
  }

  /**
   * Runs `decider`, then the path its `Outcome.branch(path, value)` chose, with that value.
   * The decider declares its `paths`; the table must have exactly those.
   */
  branch<X, P extends string, N>(
    decider: Step<O, X, P>,
    paths: { readonly [K in P]: Unit<X, N> },
  ): FlowBuilder<I, N> {
    const table: Record<string, readonly FlowNode[]> = {}
    for (const [path, unit] of Object.entries(paths)) table[path] = unitNodes(unit as Unit<X, N>)
    return this.#add({ type: 'branch', decider, paths: table })
  }

  /** Runs every branch concurrently on this output; the result maps branch names to outputs. */
  parallel<R extends Readonly<Record<string, Unit<O, unknown>>>>(
    name: string,
    branches: R,
  ): FlowBuilder<I, { [K in keyof R]: OutputOf<R[K]> }> {
    const table: Record<string, readonly FlowNode[]> = {}
    for (const [branch, unit] of Object.entries(branches)) table[branch] = unitNodes(unit)
    return this.#add({ type: 'parallel', name, branches: table })
  }

  /** Runs `body` once per element of this (array) output; the result keeps the order. */
  map<N>(
    name: string,
    body: Unit<ElementOf<O>, N>,
    options: { concurrency?: number } = {},
  ): FlowBuilder<I, N[]> {
    return this.#add({ type: 'map', name, body: unitNodes(body), concurrency: options.concurrency ?? 8 })
  }

  /** Waits `ms` (or the ms computed from the value) on a durable timer, then goes on with the same value. */
  sleep(name: string, ms: number | ((input: O) => number)): FlowBuilder<I, O> {
    return this.#add({ type: 'sleep', name, ms: ms as number | ((input: unknown) => number) })
  }

  /** Validates the definition and returns the flow; a bad definition throws `KEEL_FLOW_INVALID` naming the step. */
  build(): Flow<I, O> {
    const { steps } = validateFlow(this.#name, this.#nodes)
    const name = this.#name
    const nodes = this.#nodes
    const input = this.#options.input
    const description = this.#options.description
    let schematic: FlowSchematic | undefined
    const describe = () => {
      schematic ??= describeFlow({ name, description, input, nodes })
      return schematic
    }
    return Object.freeze({
      kind: 'flow' as const,
      name,
      description,
      input,
      nodes,
      steps,
      describe,
      get version() {
        return describe().version
      },
    })
  }

  #add<N>(...nodes: FlowNode[]): FlowBuilder<I, N> {
    return new FlowBuilder<I, N>(this.#name, this.#options, [...this.#nodes, ...nodes])
  }
}

/** Options of {@link flow}. */
export interface FlowOptions {
  /** JSON Schema of the flow's input: validated when a run starts. */
  readonly input?: TSchema
  readonly description?: string
}

/**
 * Starts a flow definition.
 *
 * @example
 * ```ts
 * const order = flow('order', { input: OrderInput })
 *   .andThen(reserve)
 *   .andThen(charge)
 *   .parallel('fulfil', { shipment: ship, receipt: sendReceipt })
 *   .build()
 * ```
 */
export function flow<S extends TSchema>(
  name: string,
  options: Omit<FlowOptions, 'input'> & { readonly input: S },
): FlowBuilder<Static<S>, Static<S>>
export function flow<I>(name: string, options?: FlowOptions): FlowBuilder<I, I>
export function flow<I>(name: string, options: FlowOptions = {}): FlowBuilder<I, I> {
  return new FlowBuilder<I, I>(name, options)
}

function unitNodes(unit: Unit<never, unknown>): readonly FlowNode[] {
  if (unit.kind === 'flow') return unit.nodes
  return [{ type: 'step', step: unit as AnyStep }]
}
