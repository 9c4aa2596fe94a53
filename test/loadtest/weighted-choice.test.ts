import { seededRandom, weightedChoice } from 'keel/loadtest'
import { describe, expect, it } from 'vitest'

const draw = <T>(pick: () => T, n: number) => Array.from({ length: n }, pick)

describe('seededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = draw(seededRandom(42), 5)
    expect(draw(seededRandom(42), 5)).toEqual(a)
    expect(draw(seededRandom(43), 5)).not.toEqual(a)
    for (const value of draw(seededRandom(1), 1000)) {
      expect(value).toBeGreaterThanOrEqual(0)
      expect(value).toBeLessThan(1)
    }
  })
})

describe('weightedChoice', () => {
  it('picks in proportion to the weights, fractional ones included', () => {
    const items = [
      { name: 'a', weight: 3 },
      { name: 'b', weight: 0.5 },
      { name: 'c', weight: 0.5 },
    ]
    const counts = { a: 0, b: 0, c: 0 }
    for (const item of draw(weightedChoice(items, seededRandom(7)), 40_000)) counts[item.name as 'a']++
    expect(counts.a / 40_000).toBeCloseTo(0.75, 1)
    expect(counts.b / 40_000).toBeCloseTo(0.125, 1)
    expect(counts.c / 40_000).toBeCloseTo(0.125, 1)
  })

  it('is reproducible from its seed', () => {
    const items = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ]
    const names = (seed: number) => draw(weightedChoice(items, seededRandom(seed)), 50).map((i) => i.name)
    expect(names(9)).toEqual(names(9))
  })

  it('refuses no items and weights of 0 or less', () => {
    expect(() => weightedChoice([], Math.random)).toThrow('at least one item')
    expect(() => weightedChoice([{ weight: 0 }], Math.random)).toThrow('greater than 0, got 0')
    expect(() => weightedChoice([{ weight: 1 }, { weight: -1 }], Math.random)).toThrow('got -1')
  })
})
