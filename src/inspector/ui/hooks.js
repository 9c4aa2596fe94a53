// Hooks the views share: the app context, polling, the live feed's state and messages.
import { createContext } from 'preact'
import { useContext, useEffect, useRef, useState } from 'preact/hooks'

/** `{ api, info, live, role, navigate }`, provided by the app. */
export const AppContext = createContext(undefined)

/** The app context. */
export const useApp = () => useContext(AppContext)

/** The live feed's state (`live`, `polling`, …), re-rendering when it changes. */
export function useLiveState() {
  const { live } = useApp()
  const [state, setState] = useState(live.state)
  useEffect(() => {
    setState(live.state)
    return live.onState(setState)
  }, [live])
  return state
}

/** Calls `listener` with each live message of `type` while mounted. */
export function useLiveMessages(type, listener) {
  const { live } = useApp()
  const latest = useRef(listener)
  latest.current = listener
  useEffect(() => live.on(type, (message) => latest.current(message)), [live, type])
}

/**
 * Loads `load()` now and every `intervalMs` while mounted and the tab is visible (0: once);
 * `deps` reload it at once. Returns `{ data, error, reload }`.
 */
export function usePoll(load, intervalMs, deps = []) {
  const [state, setState] = useState({ data: undefined, error: undefined })
  const latest = useRef(load)
  latest.current = load
  const run = useRef(() => {})
  useEffect(() => {
    let cancelled = false
    let timer
    const tick = async () => {
      clearTimeout(timer)
      try {
        const data = await latest.current()
        if (!cancelled) setState({ data, error: undefined })
      } catch (error) {
        if (!cancelled) setState((previous) => ({ data: previous.data, error }))
      }
      if (!cancelled && intervalMs > 0) timer = setTimeout(poll, intervalMs)
    }
    const poll = () => {
      if (document.hidden) timer = setTimeout(poll, intervalMs)
      else tick()
    }
    run.current = tick
    tick()
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
    // The caller's deps decide when to reload.
  }, [intervalMs, ...deps])
  return { ...state, reload: () => run.current() }
}
