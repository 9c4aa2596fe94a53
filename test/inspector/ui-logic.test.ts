import { describe, expect, it } from 'vitest'
// The UI's own browser modules: plain ES modules, importable in Node too.
// @ts-expect-error: a JavaScript module without types
import { layout } from '../../src/inspector/ui/flow-graph.js'
// @ts-expect-error: a JavaScript module without types
import { matches } from '../../src/inspector/ui/views/traces.js'
// @ts-expect-error: a JavaScript module without types
import { treeOrder } from '../../src/inspector/ui/waterfall.js'

interface Placed {
  node: { id: string }
  x: number
  y: number
  w: number
  h: number
}

const at = (placed: Placed[], id: string) => placed.find((p) => p.node.id === id)!

describe('flow graph layout', () => {
  it('puts a sequence left to right, one node per layer, on one line', () => {
    const ids = ['<start>', 'reserve', 'charge', 'ship', '<end>']
    const { nodes } = layout({
      nodes: ids.map((id) => ({ id, kind: id.startsWith('<') ? id.slice(1, -1) : 'step' })),
      edges: ids.slice(1).map((to, i) => ({ from: ids[i]!, to })),
    }) as { nodes: Placed[] }
    const xs = ids.map((id) => at(nodes, id).x)
    expect([...xs].sort((a, b) => a - b)).toEqual(xs)
    expect(new Set(ids.map((id) => at(nodes, id).y + at(nodes, id).h / 2)).size).toBe(1)
  })

  it('stacks parallel branches in one layer and places their join after the longest', () => {
    const { nodes, width, height } = layout({
      nodes: [
        { id: '<start>', kind: 'start' },
        { id: 'fan', kind: 'parallel' },
        { id: 'a', kind: 'step' },
        { id: 'b1', kind: 'step' },
        { id: 'b2', kind: 'step' },
        { id: 'fan.join', kind: 'join' },
        { id: '<end>', kind: 'end' },
      ],
      edges: [
        { from: '<start>', to: 'fan' },
        { from: 'fan', to: 'a' },
        { from: 'fan', to: 'b1' },
        { from: 'b1', to: 'b2' },
        { from: 'a', to: 'fan.join' },
        { from: 'b2', to: 'fan.join' },
        { from: 'fan.join', to: '<end>' },
      ],
    }) as { nodes: Placed[]; width: number; height: number }
    expect(at(nodes, 'a').x).toBe(at(nodes, 'b1').x)
    expect(at(nodes, 'a').y).not.toBe(at(nodes, 'b1').y)
    expect(at(nodes, 'fan.join').x).toBeGreaterThan(at(nodes, 'b2').x)
    for (const p of nodes) {
      expect(p.x + p.w).toBeLessThanOrEqual(width)
      expect(p.y + p.h).toBeLessThanOrEqual(height)
    }
  })

  it('stays finite on a graph with a cycle (a malformed schematic)', () => {
    const { nodes } = layout({
      nodes: [
        { id: 'a', kind: 'step' },
        { id: 'b', kind: 'step' },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    }) as { nodes: Placed[] }
    expect(nodes).toHaveLength(2)
  })
})

describe('waterfall tree order', () => {
  it('lists children under their parent by start, and orphans as roots of their own', () => {
    const rows = treeOrder([
      { spanId: 'c2', parentSpanId: 'r', offsetMs: 20 },
      { spanId: 'r', offsetMs: 0 },
      { spanId: 'g', parentSpanId: 'c1', offsetMs: 6 },
      { spanId: 'c1', parentSpanId: 'r', offsetMs: 5 },
      { spanId: 'o', parentSpanId: 'remote', offsetMs: 30 },
    ]) as { span: { spanId: string }; depth: number }[]
    expect(rows.map((r) => `${r.span.spanId}@${r.depth}`)).toEqual(['r@0', 'c1@1', 'g@2', 'c2@1', 'o@0'])
  })
})

describe('trace filter', () => {
  const trace = { route: '/orders', statusCode: 503, isError: true }
  it('matches the API rules: route, error/ok, a class and a code', () => {
    expect(matches(trace, { route: '/orders', status: '' })).toBe(true)
    expect(matches(trace, { route: '/stock', status: '' })).toBe(false)
    expect(matches(trace, { route: '', status: 'error' })).toBe(true)
    expect(matches(trace, { route: '', status: 'ok' })).toBe(false)
    expect(matches(trace, { route: '', status: '5xx' })).toBe(true)
    expect(matches(trace, { route: '', status: '4xx' })).toBe(false)
    expect(matches(trace, { route: '', status: '503' })).toBe(true)
    expect(matches({ ...trace, statusCode: 404, isError: false }, { route: '', status: 'ok' })).toBe(true)
  })
})
