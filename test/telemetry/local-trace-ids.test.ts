import { describe, expect, it } from 'vitest'
import { localTraceIds } from '../../src/telemetry/trace-context.ts'

describe('trace ids made in this process (localTraceIds)', () => {
  it('are valid W3C ids (hex, right length, not all zero) and unique', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const { traceId, spanId } = localTraceIds()
      expect(traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(spanId).toMatch(/^[0-9a-f]{16}$/)
      expect(traceId).not.toMatch(/^0+$/)
      expect(spanId).not.toMatch(/^0+$/)
      seen.add(traceId)
    }
    expect(seen.size).toBe(10_000)
  })

  it('differ between processes by a random prefix, and count up within one', () => {
    const a = localTraceIds()
    const b = localTraceIds()
    expect(a.traceId.slice(0, 16)).toBe(b.traceId.slice(0, 16))
    expect(BigInt(`0x${b.spanId}`) - BigInt(`0x${a.spanId}`)).toBe(1n)
  })
})
