import {
  isSpanContextValid,
  type Link,
  type Context as OtelContext,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api'
import { parseTraceparent } from '../../telemetry/index.ts'

/**
 * The active span as a W3C `traceparent`, stored with a run so that a worker executing it later
 * (the poller, another replica) continues the submitter's trace. Only a span that is sampled or
 * recorded (the inspector records unsampled traces) is worth continuing; the flags keep the
 * sampling decision. The API has no formatter outside the propagator, which may not be
 * registered (export off), hence the template.
 */
export function activeTraceParent(): string | undefined {
  const span = trace.getActiveSpan()
  if (!span) return undefined
  const parent = span.spanContext()
  if (!isSpanContextValid(parent)) return undefined
  const sampled = (parent.traceFlags & TraceFlags.SAMPLED) !== 0
  if (!sampled && !span.isRecording()) return undefined
  return `00-${parent.traceId}-${parent.spanId}-${sampled ? '01' : '00'}`
}

/** Where an execution's `flow` span starts: {@link ExecutionSpan.spanParent}, linked to {@link ExecutionSpan.spanLinks}. */
export interface ExecutionSpan {
  readonly spanParent: OtelContext
  readonly spanLinks?: Link[]
}

/** A run nobody traced: its span is a root, whatever request happened to wake the poller. */
const rootSpan: ExecutionSpan = { spanParent: ROOT_CONTEXT }

/**
 * The span placement of an execution a worker claimed. The first execution continues the
 * submitter's trace (as if it had run in the request); later ones (a wake-up after a sleep, a
 * resume after a crash or a drain) start a trace of their own with a link to it, so that a trace
 * never spans the hours a run may sleep.
 */
export function executionSpan(traceParent: string | undefined, executions: number): ExecutionSpan {
  const submitter = traceParent === undefined ? undefined : spanContextOf(traceParent)
  if (!submitter) return rootSpan
  if (executions <= 1) return { spanParent: trace.setSpanContext(ROOT_CONTEXT, submitter) }
  return { spanParent: ROOT_CONTEXT, spanLinks: [{ context: submitter }] }
}

/**
 * A stored `traceparent` as a remote span context. Remote: it may come from another process, and
 * a local non-recording parent would read to the inspector's sampler as a request it does not
 * keep. `parseTraceparent` checks the ids but drops the flags: the sampled bit is read here.
 */
function spanContextOf(traceParent: string): SpanContext | undefined {
  const ids = parseTraceparent(traceParent)
  if (!ids) return undefined
  const flags = Number.parseInt(traceParent.slice(-2), 16) & TraceFlags.SAMPLED
  return { traceId: ids.traceId, spanId: ids.spanId, traceFlags: flags, isRemote: true }
}
