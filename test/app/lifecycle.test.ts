import { Lifecycle, type StateChange } from 'keel/app'
import { describe, expect, it } from 'vitest'

describe('Lifecycle', () => {
  it('walks created → starting → ready → draining → stopped, telling listeners each step', () => {
    const lifecycle = new Lifecycle()
    const seen: StateChange[] = []
    lifecycle.onChange((change) => seen.push(change))
    for (const state of ['starting', 'ready', 'draining', 'stopped'] as const) lifecycle.moveTo(state)
    expect(seen.map((c) => `${c.from}>${c.to}`)).toEqual([
      'created>starting',
      'starting>ready',
      'ready>draining',
      'draining>stopped',
    ])
    expect(lifecycle.state).toBe('stopped')
  })

  it('refuses moves the lifecycle does not allow', () => {
    const lifecycle = new Lifecycle()
    expect(() => lifecycle.moveTo('ready')).toThrow('app cannot go from created to ready')
    lifecycle.moveTo('starting')
    lifecycle.moveTo('ready')
    expect(() => lifecycle.moveTo('starting')).toThrow('app cannot go from ready to starting')
  })

  it('stops telling a listener after it unsubscribes', () => {
    const lifecycle = new Lifecycle()
    let calls = 0
    const off = lifecycle.onChange(() => calls++)
    lifecycle.moveTo('starting')
    off()
    lifecycle.moveTo('ready')
    expect(calls).toBe(1)
  })
})
