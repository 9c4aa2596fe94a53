import { type Attributes, trace } from '@opentelemetry/api'
import { isKeelError } from '../errors/index.ts'

/** Adds an event to the active span; a no-op when tracing is off or no span is active. */
export function addSpanEvent(name: string, attributes: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes)
}

/**
 * What kind of error it was, for a span attribute: a Keel code, else the error's name. Never
 * the message, which may carry data that must not leave the process.
 */
export function errorType(error: unknown): string {
  if (isKeelError(error)) return error.code
  if (error instanceof Error) return error.name
  return typeof error
}
