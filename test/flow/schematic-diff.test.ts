import { type TSchema, Type } from '@sinclair/typebox'
import {
  diffSchematicDocuments,
  diffSchematics,
  type FlowBuilder,
  type FlowSchematic,
  flow,
  Outcome,
  readSchematicDocument,
  type SchematicChange,
  type StepOptions,
  schematicDocument,
  step,
  type Unit,
} from 'keel/flow'
import { describe, expect, it } from 'vitest'

/** A pass-through step on numbers; options change what its schematic node says. */
const n = (name: string, options: Partial<StepOptions<number, number>> = {}) =>
  step<number, number>(name, { run: (v) => v, ...options })

/** The schematic of `builder` followed by pass-through steps; value types do not matter to it. */
const followedBy = (builder: FlowBuilder<never, unknown>, names: readonly string[]) =>
  names
    .reduce((b, name) => b.andThen(n(name) as Unit<unknown, unknown>), builder)
    .build()
    .describe()

/** A flow of the given steps, in order. */
const chain = (...names: string[]) => followedBy(flow<number>('f'), names)

/** Changes as short strings: `severity type subject`, for whole-diff assertions. */
const summary = (changes: readonly SchematicChange[]) =>
  changes.map((c) => {
    const what =
      c.type === 'edge-added' || c.type === 'edge-removed'
        ? `${c.edge.from}->${c.edge.to}${c.edge.label ? `:${c.edge.label}` : ''}`
        : c.type === 'node-changed'
          ? `${c.node}.${c.field}`
          : c.type === 'node-added' || c.type === 'node-removed'
            ? c.node
            : c.type === 'flow-changed'
              ? c.field
              : ''
    return `${c.severity} ${c.type} ${what}`.trim()
  })

const decider = (paths: string[]) =>
  step<number, number, string>('decide', { paths, run: (v) => Outcome.branch(paths[0]!, v) })

describe('diffSchematics', () => {
  it('finds nothing between two builds of one definition', () => {
    const diff = diffSchematics(chain('a', 'b'), chain('a', 'b'))
    expect(diff).toEqual({
      flow: 'f',
      before: diff.before,
      after: diff.before,
      severity: 'none',
      changes: [],
    })
  })

  it('calls a removed step breaking: runs that recorded it resume without it', () => {
    const diff = diffSchematics(chain('a', 'b', 'c'), chain('a', 'c'))
    expect(diff.severity).toBe('breaking')
    expect(summary(diff.changes)).toEqual([
      'breaking node-removed b',
      'breaking edge-removed a->b',
      'breaking edge-removed b->c',
      'breaking edge-added a->c',
    ])
    expect(diff.changes[0]).toMatchObject({
      kind: 'step',
      reason: expect.stringContaining('its compensation never runs'),
    })
    expect(diff.changes[3]!.reason).toBe('follows from the removal of "b"')
  })

  it('calls a step appended at the end compatible: runs in flight reach it in order', () => {
    const diff = diffSchematics(chain('a', 'b'), chain('a', 'b', 'c'))
    expect(diff.severity).toBe('compatible')
    expect(summary(diff.changes)).toEqual([
      'compatible node-added c',
      'compatible edge-removed b-><end>',
      'compatible edge-added b->c',
      'compatible edge-added c-><end>',
    ])
    expect(diff.changes[0]!.reason).toBe('no existing step follows it: runs in flight reach it in order')
    expect(diff.changes[1]!.reason).toBe('follows from the addition of "c"')
  })

  it('calls a step put before existing ones breaking: a run past it would run it late', () => {
    const diff = diffSchematics(chain('a', 'c'), chain('a', 'b', 'c'))
    expect(diff.severity).toBe('breaking')
    expect(summary(diff.changes)).toEqual([
      'breaking node-added b',
      'breaking edge-removed a->c',
      'breaking edge-added a->b',
      'breaking edge-added b->c',
    ])
    expect(diff.changes[0]!.reason).toBe(
      'existing "c" follows it: a run that recorded "c" runs it late on resume',
    )
  })

  it('calls steps in another order breaking', () => {
    const diff = diffSchematics(chain('a', 'b', 'c'), chain('a', 'c', 'b'))
    expect(diff.severity).toBe('breaking')
    expect(diff.changes.every((c) => c.type.startsWith('edge-') && c.severity === 'breaking')).toBe(true)
    expect(diff.changes.map((c) => c.reason)).toContain('the order of existing steps changed')
  })

  it('calls a path a decider gained compatible, with the steps only on it', () => {
    const before = flow<number>('f')
      .branch(decider(['a']), { a: n('x') })
      .andThen(n('after'))
      .build()
      .describe()
    const after = flow<number>('f')
      .branch(decider(['a', 'b']), {
        a: n('x'),
        b: flow<number>('p').andThen(n('y')).andThen(n('z')).build(),
      })
      .andThen(n('after'))
      .build()
      .describe()
    const diff = diffSchematics(before, after)
    expect(summary(diff.changes)).toEqual([
      'compatible node-added y',
      'compatible node-added z',
      'compatible node-changed decide.paths',
      'compatible edge-added decide->y:b',
      'compatible edge-added y->z',
      'compatible edge-added z->after',
    ])
    expect(diff.changes[0]!.reason).toBe('it lies only on a new path: no recorded run chose that path')
    expect(diff.severity).toBe('compatible')
  })

  it('calls a removed path breaking: a run that chose it cannot go on', () => {
    const before = flow<number>('f')
      .branch(decider(['a', 'b']), { a: n('x'), b: n('y') })
      .build()
      .describe()
    const after = flow<number>('f')
      .branch(decider(['a']), { a: n('x') })
      .build()
      .describe()
    const diff = diffSchematics(before, after)
    const paths = diff.changes.find((c) => c.type === 'node-changed' && c.field === 'paths')
    expect(paths).toMatchObject({
      severity: 'breaking',
      before: ['a', 'b'],
      after: ['a'],
      reason: 'a run that recorded the choice of "b" cannot go on: the path is gone',
    })
    expect(summary(diff.changes)).toContain('breaking node-removed y')
  })

  it('calls a changed input or output schema, or a changed kind, breaking', () => {
    const A = Type.Object({ id: Type.String() })
    const B = Type.Object({ id: Type.Integer() })
    const before = flow<number>('f')
      .andThen(n('s', { input: A, output: A }))
      .build()
      .describe()
    const after = flow<number>('f')
      .andThen(n('s', { input: B, output: B }))
      .build()
      .describe()
    expect(summary(diffSchematics(before, after).changes)).toEqual([
      'breaking node-changed s.input',
      'breaking node-changed s.output',
    ])
    expect(diffSchematics(before, after).changes[0]).toMatchObject({
      kind: 'step',
      before: { properties: { id: { type: 'string' } } },
      after: { properties: { id: { type: 'integer' } } },
    })

    const asStep = flow<number>('f').andThen(n('decide')).andThen(n('x')).build().describe()
    const asDecider = flow<number>('f')
      .branch(decider(['a']), { a: n('x') })
      .build()
      .describe()
    const kind = diffSchematics(asStep, asDecider).changes.find((c) => c.type === 'node-changed')
    expect(kind).toMatchObject({
      field: 'kind',
      severity: 'breaking',
      reason: 'a run that recorded the step replays it as a branch',
    })
  })

  it('calls a lost compensation breaking and a gained one compatible', () => {
    const undo = { compensate: () => {} }
    const without = chain('a')
    const withUndo = flow<number>('f').andThen(n('a', undo)).build().describe()
    expect(diffSchematics(withUndo, without).changes).toEqual([
      expect.objectContaining({ field: 'compensates', before: true, after: false, severity: 'breaking' }),
    ])
    expect(diffSchematics(without, withUndo).changes).toEqual([
      expect.objectContaining({ field: 'compensates', before: false, after: true, severity: 'compatible' }),
    ])
  })

  it('calls retry, timeout, faults, concurrency, sleep and descriptions compatible', () => {
    const build = (v: number) =>
      flow<number[]>('f', { description: `v${v}` })
        .map(
          'each',
          n('s', { retry: { maxAttempts: v }, timeoutMs: 100 * v, faults: [`f${v}`], description: `s${v}` }),
          { concurrency: v },
        )
        .sleep('nap', v)
        .build()
        .describe()
    const diff = diffSchematics(build(1), build(2))
    expect(summary(diff.changes)).toEqual([
      'compatible flow-changed description',
      'compatible node-changed each.concurrency',
      'compatible node-changed s.retry',
      'compatible node-changed s.timeoutMs',
      'compatible node-changed s.faults',
      'compatible node-changed s.description',
      'compatible node-changed nap.ms',
    ])
    expect(diff.severity).toBe('compatible')
  })

  it('calls a changed flow input schema breaking: runs already started hold the old input', () => {
    const build = (schema: TSchema = Type.Number()) =>
      flow('f', { input: schema })
        .andThen(step('s', (v: unknown) => v))
        .build()
        .describe()
    expect(diffSchematics(build(), build(Type.Integer())).changes).toEqual([
      expect.objectContaining({ type: 'flow-changed', field: 'input', severity: 'breaking' }),
    ])
  })

  it('judges a parallel branch by what follows the group', () => {
    const fan = (branches: string[], then: string[]) =>
      followedBy(flow<number>('f').parallel('fan', Object.fromEntries(branches.map((b) => [b, n(b)]))), then)
    const last = diffSchematics(fan(['a'], []), fan(['a', 'b'], []))
    expect(last.severity).toBe('compatible')
    expect(summary(last.changes)).toContain('compatible node-changed fan.branches')
    const followed = diffSchematics(fan(['a'], ['after']), fan(['a', 'b'], ['after']))
    expect(followed.severity).toBe('breaking')
    expect(followed.changes.find((c) => c.type === 'node-added')).toMatchObject({
      node: 'b',
      severity: 'breaking',
      reason: 'existing "after" follows it: a run that recorded "after" runs it late on resume',
    })
    expect(diffSchematics(fan(['a', 'b'], []), fan(['a'], [])).changes).toContainEqual(
      expect.objectContaining({ field: 'branches', severity: 'breaking' }),
    )
  })

  it('judges a step added to a map body by what follows the map', () => {
    const mapped = (body: string[], then: string[]) => {
      const each = body.reduce((b, s) => b.andThen(n(s)), flow<number>('body')).build()
      return followedBy(flow<number[]>('f').map('each', each), then)
    }
    expect(diffSchematics(mapped(['a'], []), mapped(['a', 'b'], [])).severity).toBe('compatible')
    expect(diffSchematics(mapped(['a'], ['after']), mapped(['a', 'b'], ['after'])).severity).toBe('breaking')
  })

  it('diffs schematics read back from JSON as it diffs the objects', () => {
    const before = chain('a', 'b', 'c')
    const after = chain('a', 'c', 'd')
    const parsed = (s: FlowSchematic) => JSON.parse(JSON.stringify(s)) as FlowSchematic
    expect(diffSchematics(parsed(before), parsed(after))).toEqual(diffSchematics(before, after))
  })
})

describe('schematic documents', () => {
  const order = chain('a', 'b')
  const refund = flow<number>('refund').andThen(n('r')).build().describe()

  it('sorts flows by name and keeps one copy of a flow given twice', () => {
    expect(schematicDocument([refund, order, refund])).toEqual({
      schematicVersion: 1,
      flows: [order, refund],
    })
  })

  it('refuses two different flows with one name', () => {
    expect(() => schematicDocument([order, { ...order, version: 'other' }])).toThrow(
      `two different flows are named "f" (versions ${order.version} and other)`,
    )
  })

  it('calls an added flow compatible and a removed one breaking', () => {
    const drift = diffSchematicDocuments(schematicDocument([order]), schematicDocument([refund]))
    expect(drift.severity).toBe('breaking')
    expect(drift.flows).toEqual([
      {
        flow: 'f',
        before: order.version,
        after: null,
        severity: 'breaking',
        changes: [
          {
            type: 'flow-removed',
            severity: 'breaking',
            reason: 'its runs in flight cannot resume: the runner no longer knows the flow',
          },
        ],
      },
      {
        flow: 'refund',
        before: null,
        after: refund.version,
        severity: 'compatible',
        changes: [{ type: 'flow-added', severity: 'compatible', reason: 'no run of it can be in flight' }],
      },
    ])
    const same = diffSchematicDocuments(schematicDocument([order]), schematicDocument([order]))
    expect(same).toEqual({
      severity: 'none',
      flows: [{ flow: 'f', before: order.version, after: order.version, severity: 'none', changes: [] }],
    })
  })

  it('reads a document or a single flow, and names the first thing wrong by its place', () => {
    const json = JSON.parse(JSON.stringify(schematicDocument([order, refund])))
    expect(readSchematicDocument(json)).toEqual(schematicDocument([order, refund]))
    expect(readSchematicDocument(JSON.parse(JSON.stringify(order)))).toEqual(schematicDocument([order]))

    const broken = (
      edit: (doc: { schematicVersion?: unknown; flows: Record<string, unknown>[] }) => void,
    ) => {
      const doc = JSON.parse(JSON.stringify(schematicDocument([order, refund])))
      edit(doc)
      return () => readSchematicDocument(doc)
    }
    expect(() => readSchematicDocument([])).toThrow('the document: expected an object')
    expect(broken((d) => delete d.schematicVersion)).toThrow('schematicVersion is missing')
    expect(broken((d) => (d.schematicVersion = 2))).toThrow(
      'schematicVersion 2 is not supported (this keel reads 1)',
    )
    expect(broken((d) => (d.flows[1]!.nodes = {}))).toThrow('flows[1].nodes: expected an array')
    expect(broken((d) => ((d.flows[0]!.nodes as { id: unknown }[])[2]!.id = 3))).toThrow(
      'flows[0].nodes[2].id: expected a string',
    )
    expect(broken((d) => ((d.flows[0]!.edges as { to: string }[])[0]!.to = 'ghost'))).toThrow(
      'flows[0].edges[0].to: no node has the id "ghost"',
    )
    expect(broken((d) => (d.flows[1]!.name = 'f'))).toThrow('flows: "f" appears twice')
  })
})
