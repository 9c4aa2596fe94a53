import { isKeelError, type KeelError } from 'keel/errors'
import { type AnyStep, FlowBuilder, type FlowNode, flow, Outcome, runFlow, step } from 'keel/flow'
import { describe, expect, it } from 'vitest'

const inc = step('inc', (n: number) => n + 1)
const dbl = step('dbl', (n: number) => n * 2)
const neg = step('neg', (n: number) => -n)
const toText = step('to-text', (n: number) => String(n))
const shout = step('shout', (s: string) => s.toUpperCase())
const decide = step('decide', {
  paths: ['small', 'big'],
  run: (n: number) => Outcome.branch(n < 10 ? 'small' : 'big', n),
})

/** The KEEL_FLOW_INVALID error `build` throws; fails the test when it throws nothing or something else. */
function invalid(build: () => unknown): KeelError {
  try {
    build()
  } catch (error) {
    if (isKeelError(error) && error.code === 'KEEL_FLOW_INVALID') return error
    throw error
  }
  throw new Error('expected the definition to be rejected')
}

/** A flow straight from nodes: what the builder cannot produce, but code can. */
const fromNodes = (nodes: FlowNode[], name = 'raw') =>
  new FlowBuilder<unknown, unknown>(name, {}, nodes).build()
const node = (s: AnyStep): FlowNode => ({ type: 'step', step: s })

describe('flow builder: definitions rejected at build time', () => {
  it('rejects a step name used twice, naming the flow and the step', () => {
    const error = invalid(() => flow<number>('calc').andThen(inc).andThen(dbl).andThen(inc).build())
    expect(error.message).toBe(
      'flow "calc": the name "inc" is used twice; step, sleep, parallel and map names must be unique',
    )
    expect(error.status).toBe(500)
  })

  it('rejects a sub-flow embedded twice, in sequence or in two parallel branches', () => {
    const sub = flow<number>('sub').andThen(inc).andThen(dbl).build()
    expect(invalid(() => flow<number>('outer').andThen(sub).andThen(sub).build()).message).toBe(
      'flow "outer": the name "inc" is used twice; step, sleep, parallel and map names must be unique',
    )
    expect(invalid(() => flow<number>('fan').parallel('both', { a: sub, b: sub }).build()).message).toMatch(
      /^flow "fan": the name "inc" is used twice/,
    )
  })

  it('rejects a group or sleep that takes a step name', () => {
    expect(invalid(() => flow<number>('f').andThen(inc).sleep('inc', 10).build()).message).toMatch(
      /^flow "f": the name "inc" is used twice/,
    )
    expect(
      invalid(() =>
        flow<number[]>('f')
          .map('dbl', dbl)
          .andThen(step('dbl', (n: number[]) => n))
          .build(),
      ).message,
    ).toMatch(/^flow "f": the name "dbl" is used twice/)
  })

  it('rejects a deciding step that declares no paths', () => {
    const undeclared = step('pick', (n: number) => Outcome.branch('any', n))
    expect(
      invalid(() =>
        flow<number>('f')
          .branch(undeclared, {} as never)
          .build(),
      ).message,
    ).toBe('flow "f": step "pick" decides a branch but declares no paths')
  })

  it('rejects a declared path the branch does not have', () => {
    const error = invalid(() =>
      flow<number>('f')
        .branch(decide, { small: inc } as never)
        .build(),
    )
    expect(error.message).toBe('flow "f": step "decide" can branch to "big" but the branch has no such path')
  })

  it('rejects a path in the table that the step never chooses', () => {
    const error = invalid(() =>
      flow<number>('f')
        .branch(decide, { small: inc, big: dbl, huge: neg } as never)
        .build(),
    )
    expect(error.message).toBe(
      'flow "f": the branch after step "decide" has a path "huge" that the step never chooses (paths: small, big)',
    )
  })

  it('rejects a path named like an Object.prototype member that the table lacks', () => {
    const sneaky = step('sneaky', {
      paths: ['constructor'],
      run: (n: number) => Outcome.branch('constructor', n),
    })
    expect(
      invalid(() =>
        flow<number>('f')
          .branch(sneaky, {} as never)
          .build(),
      ).message,
    ).toBe('flow "f": step "sneaky" can branch to "constructor" but the branch has no such path')
  })

  it('rejects empty flows, parallel groups, branches, paths and map bodies', () => {
    expect(invalid(() => flow('empty').build()).message).toBe('flow "empty": it has no steps')
    expect(invalid(() => flow<number>('f').parallel('fan', {}).build()).message).toBe(
      'flow "f": parallel "fan" has no branches',
    )
    expect(invalid(() => fromNodes([{ type: 'parallel', name: 'fan', branches: { a: [] } }])).message).toBe(
      'flow "raw": parallel "fan": branch "a" is empty',
    )
    expect(
      invalid(() => fromNodes([{ type: 'branch', decider: decide, paths: { small: [node(inc)], big: [] } }]))
        .message,
    ).toBe('flow "raw": path "big" after step "decide" is empty')
    expect(invalid(() => fromNodes([{ type: 'map', name: 'each', body: [], concurrency: 1 }])).message).toBe(
      'flow "raw": map "each" has an empty body',
    )
  })

  it('rejects names that are not identifiers', () => {
    expect(invalid(() => flow<number>('1st').andThen(inc).build()).message).toBe(
      'flow "1st": the name must start with a letter and hold only letters, digits, _ and -',
    )
    expect(invalid(() => flow<number>('f').sleep('wait a bit', 5).build()).message).toBe(
      'flow "f": sleep name "wait a bit" must start with a letter and hold only letters, digits, _ and -',
    )
    expect(invalid(() => flow<number>('f').parallel('fan out', { a: inc }).build()).message).toMatch(
      /^flow "f": parallel name "fan out" must start with a letter/,
    )
    expect(invalid(() => flow<number>('f').parallel('fan', { 'a b': inc }).build()).message).toBe(
      'flow "f": parallel "fan": branch name "a b" must be an identifier',
    )
    expect(() => step('no good', (n: number) => n)).toThrow(/step name "no good" must start with a letter/)
  })

  it('rejects a map concurrency that is not an integer >= 1', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(invalid(() => flow<number[]>('f').map('each', inc, { concurrency }).build()).message).toBe(
        `flow "f": map "each": concurrency must be an integer >= 1 (got ${concurrency})`,
      )
    }
  })

  it('rejects a sleep that is negative or not finite', () => {
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(invalid(() => flow<number>('f').sleep('wait', ms).build()).message).toBe(
        `flow "f": sleep "wait": ms must be a finite number >= 0 (got ${ms})`,
      )
    }
    expect(
      flow<number>('f')
        .sleep('wait', 0)
        .sleep('later', (n) => n)
        .build().nodes,
    ).toHaveLength(2)
  })

  it('rejects a cycle made by splicing a node array into itself', () => {
    const body: FlowNode[] = [node(inc)]
    body.push({ type: 'map', name: 'again', body, concurrency: 1 })
    expect(invalid(() => fromNodes(body)).message).toBe('flow "raw": cycle: map "again" contains itself')

    const branch: FlowNode[] = [node(dbl)]
    const looped: FlowNode[] = [{ type: 'parallel', name: 'fan', branches: { a: branch } }]
    branch.push(...looped)
    expect(invalid(() => fromNodes(looped)).message).toMatch(/^flow "raw": the name "fan" is used twice/)
  })

  it('rejects a node of an unknown type', () => {
    expect(invalid(() => fromNodes([{ type: 'loop' } as unknown as FlowNode])).message).toBe(
      'flow "raw": unknown node type "loop"',
    )
  })
})

describe('flow builder: immutability', () => {
  it('extends a shared partial builder in two directions without either seeing the other', async () => {
    const base = flow<number>('calc').andThen(inc)
    const doubled = base.andThen(dbl).build()
    const negated = base.andThen(neg).build()
    const alone = base.build()

    expect(doubled.nodes.map((n) => (n.type === 'step' ? n.step.name : n.type))).toEqual(['inc', 'dbl'])
    expect(negated.nodes.map((n) => (n.type === 'step' ? n.step.name : n.type))).toEqual(['inc', 'neg'])
    expect(alone.nodes).toHaveLength(1)
    expect(await runFlow(doubled, 1)).toMatchObject({ status: 'completed', output: 4 })
    expect(await runFlow(negated, 1)).toMatchObject({ status: 'completed', output: -2 })
    expect(await runFlow(alone, 1)).toMatchObject({ status: 'completed', output: 2 })
  })

  it('builds a frozen flow whose steps include deciders, and gives the same flow every time', () => {
    const builder = flow<number>('route').branch(decide, { small: inc, big: dbl })
    const built = builder.build()
    expect(Object.isFrozen(built)).toBe(true)
    expect([...built.steps.keys()]).toEqual(['decide', 'inc', 'dbl'])
    expect(builder.build().version).toBe(built.version)
  })
})

describe('flow builder: types', () => {
  it('accepts units whose input is the previous output and rejects the rest at compile time', () => {
    const ok = flow<number>('typed').andThen(toText).andThen(shout).build()
    expect(ok.steps.size).toBe(2)

    // @ts-expect-error shout takes a string; the flow's value is a number
    flow<number>('typed').andThen(shout)
    // @ts-expect-error a sub-flow that takes a string cannot follow a number
    flow<number>('typed').andThen(flow<string>('sub').andThen(shout).build())
    // @ts-expect-error the path unit gets the decider's output (a number), not a string
    flow<number>('typed').branch(decide, { small: shout, big: inc })
    // @ts-expect-error a map body gets one element (a number), not a string
    flow<number[]>('typed').map('each', shout)
    // @ts-expect-error map needs a list; the value is a number
    flow<number>('typed').map('each', inc)

    const fan = flow<number>('typed').parallel('fan', { text: toText, next: inc })
    fan.andThen(step('use', (v: { text: string; next: number }) => v.text.length + v.next))
    // @ts-expect-error the parallel output holds `next` as a number
    fan.andThen(step('use', (v: { text: string; next: string }) => v))
  })
})
