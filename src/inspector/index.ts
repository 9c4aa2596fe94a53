export type { InspectorRuntime } from './api-routes.ts'
export { routeIdOf } from './api-routes.ts'
export { DeadLetterDesk, type DeadLetterEntry, type DeadLetterKind } from './dead-letter-desk.ts'
export { InFlight, type RunningOperation, type Stall } from './in-flight.ts'
export {
  type InspectorAccess,
  type InspectorRole,
  inspectorAccess,
  liveProtocol,
} from './inspector-access.ts'
export {
  type InspectorDescription,
  type InspectorModule,
  type InspectorOptions,
  inspector,
} from './inspector-module.ts'
export { inspectorSection } from './inspector-section.ts'
export { binOf, binValueMs, latencyBins, quantileMs } from './latency-histogram.ts'
export { LiveFeed, type LiveFeedOptions, type LiveFeedStats } from './live-feed.ts'
export { patternSample } from './pattern-sample.ts'
export { payloadCapture, safeBody } from './payload-capture.ts'
export { sampleOf } from './schema-sample.ts'
export { SlidingWindow, type WindowPoint, type WindowStats } from './sliding-window.ts'
export {
  hasOperationEnded,
  runningOperationOf,
  SpanRecorder,
  type SpanRecorderTargets,
} from './span-recorder.ts'
export {
  type AttributeValue,
  redactAttributes,
  type StoredSpan,
  spanBytes,
  storedSpanOf,
} from './stored-span.ts'
export {
  type CapturedPayload,
  type StoredTrace,
  summarize,
  type TraceFilter,
  TraceStore,
  type TraceStoreOptions,
  type TraceStoreStats,
  type TraceSummary,
} from './trace-store.ts'
export { type SeriesLabels, type SeriesStats, WindowSet } from './window-set.ts'
