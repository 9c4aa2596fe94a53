import { InFlight } from 'keel/inspector'
import { describe, expect, it } from 'vitest'

interface Op {
  id: number
  startMs: number
  ended: boolean
}
const describeOp = (op: Op) => ({
  kind: 'request' as const,
  traceId: 't',
  spanId: String(op.id),
  name: `op ${op.id}`,
  startMs: op.startMs,
  details: {},
})
const ops = (from: number, count: number): Op[] =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, startMs: from + i, ended: false }))

describe('InFlight', () => {
  it('lists exactly the operations that have not ended, through many starts and ends', () => {
    const inFlight = new InFlight<Op>(describeOp, (op) => op.ended)
    const all = ops(0, 1000)
    for (const op of all) {
      inFlight.start(op)
      if (op.id % 3 !== 0) op.ended = true
    }
    expect(inFlight.size).toBe(334)
    const stalls = inFlight.stalls(10_000, 0)
    expect(stalls).toHaveLength(334)
    expect(stalls.every((s) => Number(s.spanId) % 3 === 0)).toBe(true)
    expect(stalls[0]).toMatchObject({ spanId: '0', runningMs: 10_000 })
    for (const op of all) op.ended = true
    expect(inFlight.size).toBe(0)
  })

  it('tracks at most max at once, counts the rest, and tracks again soon after some end', () => {
    const inFlight = new InFlight<Op>(describeOp, (op) => op.ended, 100)
    const first = ops(0, 150)
    for (const op of first) inFlight.start(op)
    expect(inFlight.size).toBe(100)
    expect(inFlight.untracked).toBe(50)
    for (const op of first) op.ended = true
    const later = ops(1000, 40)
    for (const op of later) inFlight.start(op)
    // Full of ended ones, it sweeps at most every max/16 starts: a few may go untracked first.
    const missed = inFlight.untracked - 50
    expect(missed).toBeLessThan(100 / 16)
    expect(inFlight.size).toBe(40 - missed)
    expect(inFlight.stalls(10_000, 0).every((s) => Number(s.spanId) >= 1000)).toBe(true)
  })
})
