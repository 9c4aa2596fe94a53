import { KeelError } from '../errors/index.ts'
import type { FlowNode } from './nodes.ts'
import type { AnyStep } from './step.ts'

const identifier = /^[A-Za-z][\w-]*$/

/**
 * Checks a flow tree before it can run: names are identifiers and unique across the whole flow
 * (checkpoints are keyed by them), every branch path a decider declares exists and no other,
 * groups are not empty, and the tree has no cycle (it cannot through the builder, but node
 * arrays are plain data that code could splice into themselves). Throws `KEEL_FLOW_INVALID`
 * naming the flow and the step.
 */
export function validateFlow(flowName: string, nodes: readonly FlowNode[]): { steps: Map<string, AnyStep> } {
  const fail = (message: string): never => {
    throw new KeelError('KEEL_FLOW_INVALID', `flow "${flowName}": ${message}`)
  }
  if (!identifier.test(flowName))
    fail('the name must start with a letter and hold only letters, digits, _ and -')
  if (nodes.length === 0) fail('it has no steps')

  const steps = new Map<string, AnyStep>()
  const names = new Set<string>()
  const claim = (name: string, what: string) => {
    if (!identifier.test(name))
      fail(`${what} name "${name}" must start with a letter and hold only letters, digits, _ and -`)
    if (names.has(name))
      fail(`the name "${name}" is used twice; step, sleep, parallel and map names must be unique`)
    names.add(name)
  }
  const addStep = (step: AnyStep) => {
    claim(step.name, 'step')
    steps.set(step.name, step)
  }
  const visiting = new Set<readonly FlowNode[]>()

  const walk = (sequence: readonly FlowNode[], where: string) => {
    if (visiting.has(sequence)) fail(`cycle: ${where} contains itself`)
    visiting.add(sequence)
    for (const node of sequence) {
      switch (node.type) {
        case 'step':
          addStep(node.step)
          break
        case 'branch': {
          addStep(node.decider)
          const declared = node.decider.options.paths ?? []
          const table = Object.keys(node.paths)
          if (declared.length === 0)
            fail(`step "${node.decider.name}" decides a branch but declares no paths`)
          for (const path of declared) {
            // Own keys only: `in` would find "constructor" or "toString" on Object.prototype.
            if (!Object.hasOwn(node.paths, path))
              fail(`step "${node.decider.name}" can branch to "${path}" but the branch has no such path`)
          }
          for (const path of table) {
            if (!declared.includes(path)) {
              fail(
                `the branch after step "${node.decider.name}" has a path "${path}" that the step never chooses (paths: ${declared.join(', ')})`,
              )
            }
            const body = node.paths[path] ?? []
            if (body.length === 0) fail(`path "${path}" after step "${node.decider.name}" is empty`)
            walk(body, `path "${path}" of step "${node.decider.name}"`)
          }
          break
        }
        case 'parallel': {
          claim(node.name, 'parallel')
          const branches = Object.entries(node.branches)
          if (branches.length === 0) fail(`parallel "${node.name}" has no branches`)
          for (const [branch, body] of branches) {
            if (!identifier.test(branch))
              fail(`parallel "${node.name}": branch name "${branch}" must be an identifier`)
            if (body.length === 0) fail(`parallel "${node.name}": branch "${branch}" is empty`)
            walk(body, `branch "${branch}" of parallel "${node.name}"`)
          }
          break
        }
        case 'map':
          claim(node.name, 'map')
          if (!Number.isInteger(node.concurrency) || node.concurrency < 1) {
            fail(`map "${node.name}": concurrency must be an integer >= 1 (got ${node.concurrency})`)
          }
          if (node.body.length === 0) fail(`map "${node.name}" has an empty body`)
          walk(node.body, `map "${node.name}"`)
          break
        case 'sleep':
          claim(node.name, 'sleep')
          if (typeof node.ms === 'number' && !(Number.isFinite(node.ms) && node.ms >= 0)) {
            fail(`sleep "${node.name}": ms must be a finite number >= 0 (got ${node.ms})`)
          }
          break
        default:
          fail(`unknown node type "${(node as { type: string }).type}"`)
      }
    }
    visiting.delete(sequence)
  }
  walk(nodes, 'the flow')
  return { steps }
}
