export {
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  CounterChild,
  type HistogramChild,
  SampledGauge,
} from './bound-metrics.ts'
export { createMetrics, type HttpMetrics, httpDurationBuckets, type KeelMetrics } from './metrics.ts'
export { type BoundMetricSpec, boundCounter, boundGauge, OutcomeCounters } from './outcome-counters.ts'
export { perRegistry } from './per-registry.ts'
export { localTraceIds, parseTraceparent, requestLogContext } from './trace-context.ts'
export {
  createTracing,
  disabledTracing,
  type ObservedRequest,
  type RequestRecorder,
  type ServerSpan,
  type Tracing,
  type TracingOptions,
  unkeptSpanAttribute,
} from './tracing.ts'
