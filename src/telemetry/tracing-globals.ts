import { context, propagation, trace } from '@opentelemetry/api'
import { setContextSource, setSpanSource } from '../log/index.ts'

/**
 * The OpenTelemetry context manager, propagator and tracer provider are process globals, shared
 * by every traced app in the process (tests, or several apps in one server). The first app to
 * start registers them; they are removed only when the last one shuts down, so stopping one app
 * does not break context propagation in the others. The global tracer provider stays the first
 * app's: with several traced apps, use `app.tracing.tracer` rather than `trace.getTracer()`.
 * The propagator is counted apart: apps that only record spans in-process (the inspector with
 * export off) do not register it, so they send no `traceparent` they did not send before.
 * The counts live on globalThis so two copies of the package share them, as the OTel globals do.
 */
const globalsKey = Symbol.for('keel.telemetry.tracingGlobals')
export type GlobalsKind = 'context' | 'propagation'
type GlobalsHolder = { [globalsKey]?: Partial<Record<GlobalsKind, number>> }

export function acquireGlobals(kind: GlobalsKind, register: () => void): void {
  const holder = globalThis as GlobalsHolder
  holder[globalsKey] ??= {}
  const users = holder[globalsKey]
  const before = users[kind] ?? 0
  users[kind] = before + 1
  if (before === 0) register()
}

export function releaseGlobals(kind: GlobalsKind): void {
  const users = (globalThis as GlobalsHolder)[globalsKey]
  const count = users?.[kind] ?? 0
  if (!users || count === 0) return
  users[kind] = count - 1
  if (count > 1) return
  if (kind === 'propagation') {
    propagation.disable()
    return
  }
  trace.disable()
  context.disable()
  setContextSource(undefined)
  setSpanSource(undefined)
}
