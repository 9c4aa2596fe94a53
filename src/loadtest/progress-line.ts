import type { ScenarioProgress } from './measure-scenario.ts'

/** A scenario's live status in one line: `browse  run 3/10 s  5123 rps  0 errors`. */
export function progressLine(progress: ScenarioProgress): string {
  const elapsed = Math.min(
    Math.round(progress.elapsedSeconds),
    progress.totalSeconds ?? Number.POSITIVE_INFINITY,
  )
  const span =
    progress.totalSeconds === undefined
      ? `${progress.responses}/${progress.amount ?? '?'} requests`
      : `${elapsed}/${progress.totalSeconds} s`
  const errors = `${progress.errors} error${progress.errors === 1 ? '' : 's'}`
  return `${progress.scenario}  ${progress.phase}  ${span}  ${Math.round(progress.rps)} rps  ${errors}`
}

/**
 * The live display on a terminal: one line per scenario, rewritten in place every second, kept
 * when the scenario ends. Only for terminals: in a pipe or CI log the rewrites would be noise.
 */
export class ProgressDisplay {
  readonly #stream: NodeJS.WritableStream
  #isOpen = false

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream
  }

  /** Rewrites the current line. */
  update(progress: ScenarioProgress): void {
    this.#stream.write(`\r\x1b[2K${progressLine(progress)}`)
    this.#isOpen = true
  }

  /** Ends the current scenario's line. */
  finishLine(): void {
    if (this.#isOpen) this.#stream.write('\n')
    this.#isOpen = false
  }
}
