export { createMetrics, type HttpMetrics, httpDurationBuckets, type KeelMetrics } from './metrics.ts'
export { parseTraceparent } from './trace-context.ts'
export {
  createTracing,
  disabledTracing,
  type ServerSpan,
  type Tracing,
  type TracingOptions,
} from './tracing.ts'
