const traceparentPattern = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/**
 * The trace and parent span ids of a W3C `traceparent` header, or undefined when it is absent or
 * malformed (all-zero ids are invalid per the spec). Used to echo the caller's trace id in logs
 * even when tracing is off.
 */
export function parseTraceparent(
  header: string | undefined,
): { traceId: string; spanId: string } | undefined {
  if (!header) return undefined
  const match = traceparentPattern.exec(header.trim().toLowerCase())
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return { traceId: match[1]!, spanId: match[2]! }
}
