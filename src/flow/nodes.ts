import type { AnyStep } from './step.ts'

/**
 * The erased tree a flow builder produces and the executor walks. A sequence is an array of
 * nodes; sub-flows are inlined as their nodes, so every step name is unique within a flow.
 */
export type FlowNode = StepNode | BranchNode | ParallelNode | MapNode | SleepNode

export interface StepNode {
  readonly type: 'step'
  readonly step: AnyStep
}

/** A deciding step followed by the path its `Outcome.branch` chose. */
export interface BranchNode {
  readonly type: 'branch'
  readonly decider: AnyStep
  readonly paths: Readonly<Record<string, readonly FlowNode[]>>
}

/** Branches run concurrently on the same input; the output holds each branch's output by name. */
export interface ParallelNode {
  readonly type: 'parallel'
  readonly name: string
  readonly branches: Readonly<Record<string, readonly FlowNode[]>>
}

/** The body runs once per element of the input list, at most `concurrency` at a time. */
export interface MapNode {
  readonly type: 'map'
  readonly name: string
  readonly body: readonly FlowNode[]
  readonly concurrency: number
}

/** A durable timer: the run waits, surviving restarts, then goes on with the same value. */
export interface SleepNode {
  readonly type: 'sleep'
  readonly name: string
  readonly ms: number | ((input: unknown) => number)
}
