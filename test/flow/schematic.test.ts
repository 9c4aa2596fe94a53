import { createHash } from 'node:crypto'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { describeFlow, type FlowSchematic, flow, Outcome, SCHEMATIC_VERSION, step } from 'keel/flow'
import { describe, expect, it } from 'vitest'

/**
 * The order flow of these tests, built from scratch on every call so that two calls share no
 * object. `qtyMinimum` changes the input schema; `reversed` spells the branch and parallel
 * tables in the other order.
 */
function orderFlow({ qtyMinimum = 1, reversed = false } = {}) {
  const Order = Type.Object({ id: Type.String(), qty: Type.Integer({ minimum: qtyMinimum }) })
  type Order = Static<typeof Order>
  const reserve = step<Order, Order>('reserve', {
    description: 'Holds the items.',
    input: Order,
    output: Order,
    run: (order) => order,
    compensate: () => {},
    retry: { maxAttempts: 5, retryOn: () => true },
    timeoutMs: 2000,
    faults: ['out_of_stock', 'closed'],
  })
  const route = step<Order, Order, 'express' | 'standard'>('route', {
    paths: reversed ? ['standard', 'express'] : ['express', 'standard'],
    run: (order) => Outcome.branch(order.qty > 1 ? 'standard' : 'express', order),
  })
  const courier = step('courier', (order: Order) => [order.id])
  const post = step('post', (order: Order) => [order.id, order.id])
  const label = step('label', (id: string) => id.toUpperCase())
  const audit = step('audit', (ids: string[]) => ids.length)
  const ship = flow<string[]>('ship').map('label-all', label, { concurrency: 4 }).build()
  const done = step('done', (v: { audit: number; ship: string[] }) => v.ship)
  return flow('order', { input: Order, description: 'Takes an order.' })
    .andThen(reserve)
    .branch(route, reversed ? { standard: post, express: courier } : { express: courier, standard: post })
    .parallel('fulfil', reversed ? { ship, audit } : { audit, ship })
    .sleep('cool-off', 1000)
    .andThen(done)
    .build()
}

const OrderJson = {
  properties: { id: { type: 'string' }, qty: { minimum: 1, type: 'integer' } },
  required: ['id', 'qty'],
  type: 'object',
}

describe('flow.describe()', () => {
  it('gives nodes in walk order with their kinds, schemas and options', () => {
    const schematic = orderFlow().describe()
    expect(schematic).toMatchObject({
      schematicVersion: 1,
      name: 'order',
      description: 'Takes an order.',
      input: OrderJson,
    })
    expect(schematic.nodes).toEqual([
      { id: '<start>', kind: 'start', name: '<start>' },
      {
        id: 'reserve',
        kind: 'step',
        name: 'reserve',
        description: 'Holds the items.',
        input: OrderJson,
        output: OrderJson,
        compensates: true,
        retry: { maxAttempts: 5, retryOn: 'custom' },
        timeoutMs: 2000,
        faults: ['closed', 'out_of_stock'],
      },
      { id: 'route', kind: 'branch', name: 'route', compensates: false, paths: ['express', 'standard'] },
      { id: 'courier', kind: 'step', name: 'courier', compensates: false },
      { id: 'post', kind: 'step', name: 'post', compensates: false },
      { id: 'fulfil', kind: 'parallel', name: 'fulfil', branches: ['audit', 'ship'] },
      { id: 'audit', kind: 'step', name: 'audit', compensates: false },
      { id: 'label-all', kind: 'map', name: 'label-all', concurrency: 4 },
      { id: 'label', kind: 'step', name: 'label', compensates: false },
      { id: 'label-all.end', kind: 'map-end', name: 'label-all.end' },
      { id: 'fulfil.join', kind: 'join', name: 'fulfil.join' },
      { id: 'cool-off', kind: 'sleep', name: 'cool-off', ms: 1000 },
      { id: 'done', kind: 'step', name: 'done', compensates: false },
      { id: '<end>', kind: 'end', name: '<end>' },
    ])
  })

  it('links them with edges labelled by path, parallel branch and map body', () => {
    expect(orderFlow().describe().edges).toEqual([
      { from: '<start>', to: 'reserve' },
      { from: 'reserve', to: 'route' },
      { from: 'route', to: 'courier', label: 'express' },
      { from: 'route', to: 'post', label: 'standard' },
      { from: 'courier', to: 'fulfil' },
      { from: 'post', to: 'fulfil' },
      { from: 'fulfil', to: 'audit', label: 'audit' },
      { from: 'fulfil', to: 'label-all', label: 'ship' },
      { from: 'label-all', to: 'label', label: 'each' },
      { from: 'label', to: 'label-all.end' },
      { from: 'audit', to: 'fulfil.join' },
      { from: 'label-all.end', to: 'fulfil.join' },
      { from: 'fulfil.join', to: 'cool-off' },
      { from: 'cool-off', to: 'done' },
      { from: 'done', to: '<end>' },
    ])
  })

  it('writes keys in a fixed order, sorted inside schemas, with no TypeBox symbols', () => {
    const schematic = orderFlow().describe()
    expect(Object.keys(schematic)).toEqual([
      'schematicVersion',
      'name',
      'version',
      'description',
      'input',
      'nodes',
      'edges',
    ])
    const reserve = schematic.nodes[1]!
    expect(Object.keys(reserve)).toEqual([
      'id',
      'kind',
      'name',
      'description',
      'input',
      'output',
      'compensates',
      'retry',
      'timeoutMs',
      'faults',
    ])
    expect(JSON.stringify(reserve.input)).toBe(JSON.stringify(OrderJson))
    expect(Object.getOwnPropertySymbols(reserve.input)).toEqual([])
    expect(Object.getOwnPropertySymbols((reserve.input as { properties: object }).properties)).toEqual([])
  })

  it('gives byte-identical JSON and the same version for the same definition', () => {
    const a = orderFlow().describe()
    const b = orderFlow().describe()
    expect(JSON.stringify(b)).toBe(JSON.stringify(a))
    expect(b.version).toBe(a.version)
    expect(a.version).toMatch(/^[0-9a-f]{12}$/)
    // Tables spelled in another order are the same definition.
    expect(JSON.stringify(orderFlow({ reversed: true }).describe())).toBe(JSON.stringify(a))
  })

  it('takes the version from the sha256 of the document without it', () => {
    const { version, ...rest } = orderFlow().describe()
    expect(version).toBe(createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12))
    expect(orderFlow().version).toBe(version)
  })

  it('gives another version when a schema changes', () => {
    const before = orderFlow()
    const after = orderFlow({ qtyMinimum: 2 })
    expect(after.version).not.toBe(before.version)
    expect(after.describe().input).toMatchObject({ properties: { qty: { minimum: 2 } } })
  })

  it('does not depend on how a schema was constructed: key order and required order are normalised', () => {
    const spelled = (schema: TSchema) =>
      flow('f')
        .andThen(step<unknown, unknown>('s', { input: schema, run: (v) => v }))
        .build()
    const one = spelled(Type.Object({ a: Type.String(), b: Type.Number() }))
    const other = spelled({
      required: ['b', 'a'],
      type: 'object',
      properties: { b: { type: 'number' }, a: { type: 'string' } },
    } as unknown as TSchema)
    expect(other.version).toBe(one.version)
  })

  it('returns the same frozen document on every call', () => {
    const built = orderFlow()
    const schematic = built.describe()
    expect(built.describe()).toBe(schematic)
    expect(Object.isFrozen(schematic)).toBe(true)
    expect(Object.isFrozen(schematic.nodes[1])).toBe(true)
    expect(Object.isFrozen((schematic.nodes[1]!.input as { properties: object }).properties)).toBe(true)
  })

  it('keeps steps named start and end apart from the graph ends, and marks computed sleeps', () => {
    const schematic: FlowSchematic = flow<number>('edges')
      .andThen(step('start', (n: number) => n))
      .sleep('nap', (n) => n)
      .andThen(step('end', (n: number) => n))
      .build()
      .describe()
    expect(schematic.nodes.map((n) => n.id)).toEqual(['<start>', 'start', 'nap', 'end', '<end>'])
    expect(schematic.nodes[2]).toEqual({ id: 'nap', kind: 'sleep', name: 'nap', ms: 'computed' })
    expect(schematic.edges).toEqual([
      { from: '<start>', to: 'start' },
      { from: 'start', to: 'nap' },
      { from: 'nap', to: 'end' },
      { from: 'end', to: '<end>' },
    ])
    expect(SCHEMATIC_VERSION).toBe(1)
  })

  it('describes a node tree directly with describeFlow', () => {
    const inc = step('inc', (n: number) => n + 1)
    const schematic = describeFlow({
      name: 'raw',
      description: undefined,
      input: undefined,
      nodes: [{ type: 'step', step: inc }],
    })
    expect(schematic).toEqual({
      schematicVersion: 1,
      name: 'raw',
      version: flow<number>('raw').andThen(inc).build().version,
      nodes: [
        { id: '<start>', kind: 'start', name: '<start>' },
        { id: 'inc', kind: 'step', name: 'inc', compensates: false },
        { id: '<end>', kind: 'end', name: '<end>' },
      ],
      edges: [
        { from: '<start>', to: 'inc' },
        { from: 'inc', to: '<end>' },
      ],
    })
  })
})
