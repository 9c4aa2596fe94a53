import { describe, expect, it } from 'vitest'
// The UI's own browser module: plain ES modules, importable in Node too.
import {
  actionStatus,
  describeCondition,
  flowChoices,
  parseCondition,
  parseJsonValue,
  stepsOf,
  // @ts-expect-error: a JavaScript module without types
} from '../../src/inspector/ui/views/breakpoints.js'

const schematic = (nodes: Array<[string, string]>) => ({
  nodes: nodes.map(([name, kind]) => ({ id: name, name, kind })),
})

describe('breakpoint form: the steps a breakpoint can name', () => {
  it('offers steps and branch deciders in schematic order, as the API counts them', () => {
    const order = schematic([
      ['<start>', 'start'],
      ['reserve', 'step'],
      ['route', 'branch'],
      ['fan', 'parallel'],
      ['ship', 'step'],
      ['fan.join', 'join'],
      ['wait', 'sleep'],
      ['<end>', 'end'],
    ])
    expect(stepsOf(order)).toEqual(['reserve', 'route', 'ship'])
  })

  it('lists each flow once, first listing first, and leaves out flows with nothing to stop before', () => {
    const choices = flowChoices([
      { name: 'order', schematic: schematic([['reserve', 'step']]) },
      { name: 'empty', schematic: schematic([['<start>', 'start']]) },
      { name: 'order', schematic: schematic([['other', 'step']]) },
      { name: 'refund', schematic: schematic([['pay back', 'step']]) },
    ])
    expect(choices).toEqual([
      { flow: 'order', steps: ['reserve'] },
      { flow: 'refund', steps: ['pay back'] },
    ])
  })
})

describe('breakpoint form: the condition', () => {
  it('is none when both fields are empty or blank', () => {
    expect(parseCondition('', '')).toEqual({ errors: {} })
    expect(parseCondition('  ', ' ')).toEqual({ errors: {} })
  })

  it('reads the value as JSON, whatever its type', () => {
    expect(parseCondition('/amount', '500').when).toEqual({ pointer: '/amount', equals: 500 })
    expect(parseCondition(' /country ', ' "NL" ').when).toEqual({ pointer: '/country', equals: 'NL' })
    expect(parseCondition('/vip', 'true').when).toEqual({ pointer: '/vip', equals: true })
    expect(parseCondition('/note', 'null').when).toEqual({ pointer: '/note', equals: null })
    expect(parseCondition('/items/0', '{ "sku": "widget", "qty": 1 }').when).toEqual({
      pointer: '/items/0',
      equals: { sku: 'widget', qty: 1 },
    })
  })

  it('refuses a bare word, naming the fix: double quotes', () => {
    const { when, errors } = parseCondition('/country', 'NL')
    expect(when).toBeUndefined()
    expect(errors.pointer).toBeUndefined()
    expect(errors.equals).toMatch(/^Not valid JSON \(.+\)\. A string needs double quotes: "NL"$/)
  })

  it('refuses single quotes, naming the fix', () => {
    expect(parseJsonValue("'NL'")).toEqual({
      error: expect.stringMatching(/JSON strings take double quotes: "NL"$/),
    })
  })

  it('refuses broken JSON with the parser reason and no quote hint', () => {
    const { error } = parseJsonValue('{ "sku": ') as { error: string }
    expect(error).toMatch(/^Not valid JSON \(.+\)\.$/)
    expect(parseJsonValue('12 13')).toHaveProperty('error')
  })

  it('needs both halves: a pointer without a value, a value without a pointer', () => {
    expect(parseCondition('/amount', '').errors).toEqual({
      equals: 'Give the value to compare with, as JSON: 500, "NL", true or null',
    })
    expect(parseCondition('', '500').errors).toEqual({
      pointer: 'Give the JSON pointer to compare, e.g. /amount (or clear the value to stop every run)',
    })
  })

  it('refuses a pointer that does not start with a slash, showing the one that would', () => {
    const { when, errors } = parseCondition('amount', '500')
    expect(when).toBeUndefined()
    expect(errors).toEqual({ pointer: 'A JSON pointer starts with a slash: /amount' })
  })

  it('is described as pointer = JSON, or every run', () => {
    expect(describeCondition({ pointer: '/country', equals: 'NL' })).toBe('/country = "NL"')
    expect(describeCondition({ pointer: '/amount', equals: 500 })).toBe('/amount = 500')
    expect(describeCondition(undefined)).toBe('every run')
  })
})

describe('held runs: what became of Step and Resume', () => {
  const run = { runId: 'order:H-1', flow: 'order', step: 'charge', pausedAt: 1000 }
  const step = { mode: 'step', run }
  const resume = { mode: 'resume', run }

  it('says it is on its way, then refused with the reason', () => {
    expect(actionStatus({ ...step, state: 'sending' }, run)).toEqual({ state: 'sending', text: 'Stepping…' })
    expect(actionStatus({ ...resume, state: 'sending' }, run)).toEqual({
      state: 'sending',
      text: 'Resuming…',
    })
    expect(
      actionStatus({ ...resume, state: 'failed', message: 'run order:H-1 is not held at a breakpoint' }, run),
    ).toEqual({ state: 'failed', text: 'Resume refused: run order:H-1 is not held at a breakpoint' })
  })

  it('is accepted while the list still shows the hold it was sent for', () => {
    expect(actionStatus({ ...step, state: 'accepted' }, run)).toEqual({
      state: 'accepted',
      text: 'Step accepted: running charge',
    })
    expect(actionStatus({ ...resume, state: 'accepted' }, run).state).toBe('accepted')
  })

  it('sees the run held again: at the next step after Step, at a later breakpoint after Resume', () => {
    const atShip = { ...run, step: 'ship', pausedAt: 2000 }
    expect(actionStatus({ ...step, state: 'accepted' }, atShip)).toEqual({
      state: 'held-again',
      text: 'Ran charge, now held before ship',
    })
    expect(actionStatus({ ...resume, state: 'accepted' }, atShip)).toEqual({
      state: 'held-again',
      text: 'Resumed, then held again before ship',
    })
    // Held again at the same step (a loop, or a retry of the flow): a new hold time tells.
    expect(actionStatus({ ...resume, state: 'accepted' }, { ...run, pausedAt: 3000 }).state).toBe(
      'held-again',
    )
  })

  it('sees the run gone from the list: resumed, or stepped and not held now', () => {
    expect(actionStatus({ ...resume, state: 'accepted' }, undefined)).toEqual({
      state: 'resumed',
      text: 'Resumed: no longer held',
    })
    expect(actionStatus({ ...step, state: 'accepted' }, undefined)).toEqual({
      state: 'ran-on',
      text: 'Ran charge; not held now',
    })
  })
})
