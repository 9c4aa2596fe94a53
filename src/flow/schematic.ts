import { createHash } from 'node:crypto'
import type { TSchema } from '@sinclair/typebox'
import type { FlowNode } from './nodes.ts'
import type { AnyStep } from './step.ts'

/** The format of a schematic; a reader refuses a document with another. */
export const SCHEMATIC_VERSION = 1

/**
 * A node of the flow graph. `step`, `branch` (the deciding step) and `sleep` nodes are what a
 * durable run checkpoints, keyed by their name; the others only give the graph its shape.
 */
export interface SchematicNode {
  /** The step, group or sleep name; `<name>.join` and `<name>.end` close groups; `<start>`, `<end>`. */
  readonly id: string
  readonly kind: 'start' | 'end' | 'step' | 'branch' | 'parallel' | 'join' | 'map' | 'map-end' | 'sleep'
  readonly name: string
  readonly description?: string
  /** JSON Schema of the step's input, when it declares one. */
  readonly input?: unknown
  /** JSON Schema of the step's output, when it declares one. */
  readonly output?: unknown
  /** Whether the step has a `compensate` (set on every step and branch node). */
  readonly compensates?: boolean
  /** The retry options the step declares (absent: the default, 3 attempts); `retryOn: 'custom'` for a predicate. */
  readonly retry?: Readonly<Record<string, unknown>>
  readonly timeoutMs?: number
  /** The name of the resilience policy around the step's attempts (a circuit breaker, a bulkhead). */
  readonly policy?: string
  /** Fault codes the step declares, sorted. */
  readonly faults?: readonly string[]
  /** Paths a deciding step can choose, sorted. */
  readonly paths?: readonly string[]
  /** Branch names of a parallel group, sorted. */
  readonly branches?: readonly string[]
  readonly concurrency?: number
  /** A sleep's duration, or `'computed'` when it comes from a function of the value. */
  readonly ms?: number | 'computed'
}

/** A directed edge; `label` names the branch path, the parallel branch or `each` (a map body) it enters. */
export interface SchematicEdge {
  readonly from: string
  readonly to: string
  readonly label?: string
}

/**
 * A flow's graph: deterministic for a given definition (same definition, same bytes, same
 * `version`). Plain JSON: TypeBox's symbol metadata is stripped, keys come in a fixed order
 * (and sorted inside JSON Schemas), branch paths and parallel branches are sorted by name.
 */
export interface FlowSchematic {
  readonly schematicVersion: typeof SCHEMATIC_VERSION
  readonly name: string
  /** The first 12 hex digits of the sha256 of this document without `version`. */
  readonly version: string
  readonly description?: string
  /** JSON Schema of the flow's input, when it declares one. */
  readonly input?: unknown
  /** In walk order: `<start>` first, `<end>` last, a group before its members and after them its closing node. */
  readonly nodes: readonly SchematicNode[]
  readonly edges: readonly SchematicEdge[]
}

/** Id of the node every run starts at. Not an identifier, so no step can take it. */
export const START = '<start>'
/** Id of the node every run ends at. */
export const END = '<end>'

/**
 * Builds the schematic of a flow tree: `<start>` → nodes → `<end>`, a branch fanning out to
 * its paths, a parallel group to its branches and back to its join, a map to its body and
 * back to its end. `flow.describe()` calls this; use it directly for node trees of your own.
 *
 * @example
 * ```ts
 * const schematic = describeFlow({ name: 'order', description: undefined, input: Order, nodes })
 * schematic.nodes.map((n) => n.id) // ['<start>', 'reserve', 'charge', '<end>']
 * ```
 */
export function describeFlow(flow: {
  name: string
  description: string | undefined
  input: TSchema | undefined
  nodes: readonly FlowNode[]
}): FlowSchematic {
  const nodes: SchematicNode[] = [{ id: START, kind: 'start', name: START }]
  const edges: SchematicEdge[] = []
  const link = (from: readonly string[], to: string, label?: string) => {
    for (const f of from) edges.push(label === undefined ? { from: f, to } : { from: f, to, label })
  }

  // Each returns the ids its part of the graph ends on; `label` goes on the edges entering it.
  const sequence = (seq: readonly FlowNode[], from: readonly string[], label?: string): string[] => {
    let tails = [...from]
    seq.forEach((node, i) => {
      tails = one(node, tails, i === 0 ? label : undefined)
    })
    return tails
  }
  const one = (node: FlowNode, from: readonly string[], label?: string): string[] => {
    switch (node.type) {
      case 'step':
        nodes.push(stepNode(node.step, 'step'))
        link(from, node.step.name, label)
        return [node.step.name]
      case 'branch': {
        nodes.push(stepNode(node.decider, 'branch'))
        link(from, node.decider.name, label)
        return byName(node.paths).flatMap(([path, body]) => sequence(body, [node.decider.name], path))
      }
      case 'parallel': {
        const branches = byName(node.branches)
        const join = `${node.name}.join`
        nodes.push({ id: node.name, kind: 'parallel', name: node.name, branches: branches.map(([b]) => b) })
        link(from, node.name, label)
        const tails = branches.flatMap(([branch, body]) => sequence(body, [node.name], branch))
        nodes.push({ id: join, kind: 'join', name: join })
        link(tails, join)
        return [join]
      }
      case 'map': {
        const end = `${node.name}.end`
        nodes.push({ id: node.name, kind: 'map', name: node.name, concurrency: node.concurrency })
        link(from, node.name, label)
        const tails = sequence(node.body, [node.name], 'each')
        nodes.push({ id: end, kind: 'map-end', name: end })
        link(tails, end)
        return [end]
      }
      case 'sleep':
        nodes.push({
          id: node.name,
          kind: 'sleep',
          name: node.name,
          ms: typeof node.ms === 'number' ? node.ms : 'computed',
        })
        link(from, node.name, label)
        return [node.name]
    }
  }
  link(sequence(flow.nodes, [START]), END)
  nodes.push({ id: END, kind: 'end', name: END })

  const head = { schematicVersion: SCHEMATIC_VERSION as typeof SCHEMATIC_VERSION, name: flow.name }
  const rest = {
    ...(flow.description ? { description: flow.description } : {}),
    ...(flow.input ? { input: plainJson(flow.input) } : {}),
    nodes,
    edges,
  }
  const version = createHash('sha256')
    .update(JSON.stringify({ ...head, ...rest }))
    .digest('hex')
    .slice(0, 12)
  return deepFreeze({ ...head, version, ...rest })
}

function stepNode(step: AnyStep, kind: 'step' | 'branch'): SchematicNode {
  const o = step.options
  // Keys in a fixed order: the JSON (and so the version) must not depend on how options were spelled.
  return {
    id: step.name,
    kind,
    name: step.name,
    ...(o.description ? { description: o.description } : {}),
    ...(o.input ? { input: plainJson(o.input) } : {}),
    ...(o.output ? { output: plainJson(o.output) } : {}),
    compensates: typeof o.compensate === 'function',
    ...(o.retry ? { retry: retryOf(o.retry) } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.policy ? { policy: o.policy.name } : {}),
    ...(o.faults?.length ? { faults: [...new Set(o.faults)].sort() } : {}),
    ...(o.paths?.length ? { paths: [...new Set(o.paths)].sort() } : {}),
  }
}

function retryOf(retry: NonNullable<AnyStep['options']['retry']>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of ['maxAttempts', 'backoff', 'initialDelayMs', 'maxDelayMs', 'jitter'] as const) {
    if (retry[key] !== undefined) out[key] = retry[key]
  }
  if (retry.retryOn) out.retryOn = 'custom'
  return out
}

/** Table entries sorted by name: `{ a, b }` and `{ b, a }` are the same definition. */
const byName = <T>(table: Readonly<Record<string, T>>): [string, T][] =>
  Object.entries(table).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * A JSON Schema as plain JSON: symbol keys (TypeBox's `Kind`, `Hint`), functions and undefined
 * dropped, keys sorted, and `required` sorted (a set whose order follows property order).
 */
export function plainJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString()
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value
  }
  const json = (value as { toJSON?: () => unknown }).toJSON
  if (typeof json === 'function') return plainJson(json.call(value))
  if (Array.isArray(value)) return value.map((item) => plainJson(item) ?? null)
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(record).sort()) {
    let item = plainJson(record[key])
    if (key === 'required' && 'properties' in record && isStringList(item)) item = [...item].sort()
    if (item !== undefined) out[key] = item
  }
  return out
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string')

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}
