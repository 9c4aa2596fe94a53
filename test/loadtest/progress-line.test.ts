import { ProgressDisplay, progressLine } from 'keel/loadtest'
import { describe, expect, it } from 'vitest'
import { Collected } from '../support/cli.ts'

const progress = {
  scenario: 'browse',
  phase: 'run' as const,
  elapsedSeconds: 3.2,
  totalSeconds: 10,
  responses: 15_000,
  errors: 1,
  rps: 5123.4,
}

describe('progressLine', () => {
  it('shows elapsed of planned seconds, the current rps and the errors', () => {
    expect(progressLine(progress)).toBe('browse  run  3/10 s  5123 rps  1 error')
    expect(progressLine({ ...progress, phase: 'warmup', errors: 2 })).toBe(
      'browse  warmup  3/10 s  5123 rps  2 errors',
    )
  })

  it('counts requests for an amount run', () => {
    expect(progressLine({ ...progress, totalSeconds: undefined, amount: 20_000 })).toBe(
      'browse  run  15000/20000 requests  5123 rps  1 error',
    )
  })
})

describe('ProgressDisplay', () => {
  it('rewrites one line in place per scenario and ends it when the scenario is done', () => {
    const stream = new Collected()
    const display = new ProgressDisplay(stream)
    display.update(progress)
    display.update({ ...progress, elapsedSeconds: 4 })
    display.finishLine()
    display.finishLine()
    expect(stream.text).toBe(
      '\r\x1b[2Kbrowse  run  3/10 s  5123 rps  1 error\r\x1b[2Kbrowse  run  4/10 s  5123 rps  1 error\n',
    )
  })
})
