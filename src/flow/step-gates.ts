import type { StepAt, StepGate } from './executor.ts'

// Process-wide, not per app: `runFlow` takes no app (it runs anywhere, in a route handler, a job,
// a script), so a tool that wants to gate its runs without the caller passing anything, such as
// the inspector's breakpoints, can only register here. Each registration is removed by whoever
// made it, when its app stops.
const registered: StepGate[] = []

/** The gate in-memory runs get now: undefined (the common case) when none is registered. */
let current: StepGate | undefined

/** Calls every gate in turn, waiting for each one that holds the run. */
const every =
  (gates: readonly StepGate[]): StepGate =>
  async (at: StepAt) => {
    for (const gate of gates) await gate(at)
  }

/** Recomputes {@link current} after a change: one gate as it is, several chained. */
const updateCurrent = () => {
  if (registered.length <= 1) current = registered[0]
  else current = every([...registered])
}

/**
 * @internal Puts `gate` in front of every step of the `runFlow` runs that start from now on, in
 * this process, unless a run passes its own `beforeStep`; runs already going keep what they
 * started with. Returns the function that removes it. The inspector registers its breakpoints
 * here while its app runs (development profiles only).
 */
export function gateInMemoryRuns(gate: StepGate): () => void {
  registered.push(gate)
  updateCurrent()
  let isRegistered = true
  return () => {
    if (!isRegistered) return
    isRegistered = false
    registered.splice(registered.indexOf(gate), 1)
    updateCurrent()
  }
}

/** The gate for a `runFlow` run starting now, or undefined: then the run gets none and pays nothing per step. */
export const inMemoryGate = (): StepGate | undefined => current
