import { flow, runFlow, type StepGate, step } from 'keel/flow'
import { afterEach, describe, expect, it } from 'vitest'
import { gateInMemoryRuns } from '../../src/flow/step-gates.ts'

const steps: string[] = []
const add = step('add', (n: number) => n + 1)
const calc = flow<number>('calc')
  .andThen(add)
  .andThen(step('double', (n: number) => n * 2))
  .build()
const recording =
  (name: string): StepGate =>
  (at) => {
    steps.push(`${name} ${at.step}`)
  }

describe('gates of in-memory runs (process-wide)', () => {
  const removers: Array<() => void> = []
  const register = (gate: StepGate) => removers.push(gateInMemoryRuns(gate))
  afterEach(() => {
    for (const remove of removers.splice(0)) remove()
    steps.length = 0
  })

  it('gates runFlow runs that pass nothing, every registered gate in turn, until removed', async () => {
    register(recording('a'))
    register(recording('b'))
    expect(await runFlow(calc, 1)).toMatchObject({ status: 'completed', output: 4 })
    expect(steps).toEqual(['a add', 'b add', 'a double', 'b double'])

    removers.shift()?.()
    steps.length = 0
    await runFlow(calc, 1)
    expect(steps).toEqual(['b add', 'b double'])

    removers.shift()?.()
    steps.length = 0
    await runFlow(calc, 1)
    expect(steps).toEqual([])
  })

  it('holds a run while a registered gate waits', async () => {
    let open: () => void = () => {}
    register((at) => (at.step === 'double' ? new Promise<void>((resolve) => (open = resolve)) : undefined))
    let finished = false
    const running = runFlow(calc, 1).then((result) => {
      finished = true
      return result
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(finished).toBe(false)
    open()
    expect(await running).toMatchObject({ status: 'completed', output: 4 })
  })

  it("a run's own beforeStep replaces the registered gates", async () => {
    register(recording('registered'))
    await runFlow(calc, 1, { beforeStep: recording('own') })
    expect(steps).toEqual(['own add', 'own double'])
  })

  it('removes one registration per remover, however often it is called', async () => {
    const gate = recording('twice')
    const remove = gateInMemoryRuns(gate)
    register(gate)
    remove()
    remove()
    await runFlow(calc, 1)
    expect(steps).toEqual(['twice add', 'twice double'])
  })
})
