import { SpanKind, trace } from '@opentelemetry/api'
import type { ReadableSpan, Sampler, SamplingDecision, SamplingResult } from '@opentelemetry/sdk-trace-base'
import type { RequestRecorder } from './request-span.ts'

/**
 * Attribute of a flow span recorded inside a trace no recorder keeps (a request not admitted):
 * recorded for the per-step windows and stall tracking, never stored. Such spans are never
 * sampled for export, so the attribute never leaves the process.
 */
export const unkeptSpanAttribute = 'keel.inspector.unkept'

/**
 * The sampler when in-process processors are present. What the exporter samples is recorded
 * and sampled, unchanged. Anything else is recorded unsampled (flag 0), so processors see it
 * while the exporter, which skips unsampled spans, and callees, which get the same
 * `traceparent` flags, see no change, except where every processor is a
 * {@link RequestRecorder} (`recorders` not empty): then an unsampled request (a SERVER span
 * without a local parent) is recorded only if a recorder admits it, and below a request that
 * is not recorded only flow spans are (marked {@link unkeptSpanAttribute}, for the per-step
 * windows); other roots (flow runs, jobs) are recorded as before.
 */
export function inProcessSampler(
  exportSampler: Sampler | undefined,
  decisions: typeof SamplingDecision,
  recorders: readonly RequestRecorder[],
  admitted: () => boolean,
): Sampler {
  const record: SamplingResult = { decision: decisions.RECORD }
  const skip: SamplingResult = { decision: decisions.NOT_RECORD }
  const unkept: SamplingResult = { decision: decisions.RECORD, attributes: { [unkeptSpanAttribute]: true } }
  return {
    shouldSample(context, traceId, spanName, spanKind, attributes, links) {
      const exported = exportSampler?.shouldSample(context, traceId, spanName, spanKind, attributes, links)
      if (exported?.decision === decisions.RECORD_AND_SAMPLED) return exported
      const recorded = exported ? { ...exported, decision: decisions.RECORD } : record
      if (recorders.length === 0) return recorded
      const parent = trace.getSpan(context)
      if (parent && !parent.spanContext().isRemote) {
        const isKept =
          parent.isRecording() && (parent as Partial<ReadableSpan>).attributes?.[unkeptSpanAttribute] !== true
        if (isKept) return recorded
        return typeof attributes['keel.flow'] === 'string' ? unkept : skip
      }
      if (spanKind !== SpanKind.SERVER) return recorded
      return admitted() ? recorded : skip
    },
    toString: () =>
      `InProcess{${exportSampler ?? 'no export'}${recorders.length > 0 ? ', admitted requests' : ''}}`,
  }
}
