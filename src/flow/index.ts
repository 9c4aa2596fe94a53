export { Bus, type BusKey, busKey } from './bus.ts'
export { FlowRunner, type FlowRunnerOptions, type SubmitOptions } from './durable/runner.ts'
export { flowMigrations } from './durable/schema.ts'
export type { DeadError, RunInfo, RunStatus } from './durable/store.ts'
export type { ExecutionResult, StepAt, StepGate, StepInterceptor } from './executor.ts'
export { type AnyFlow, type Flow, FlowBuilder, type FlowOptions, flow, type Unit } from './flow.ts'
export { type FlowsModule, type FlowsOptions, flows, flowsSection } from './flows-module.ts'
export { FlowRunAccepted, type ServeFlowOptions, serveFlow } from './http-binding.ts'
export type { Checkpoint, ErrorInfo, TimelineEvent, TimelineEventType } from './journal.ts'
export { type FlowMetrics, flowMetrics, type StepMetrics } from './metrics.ts'
export type { FlowNode } from './nodes.ts'
export {
  type BranchOutcome,
  type EmitOutcome,
  type Fault,
  type FaultOutcome,
  isOutcome,
  type NextOutcome,
  Outcome,
} from './outcome.ts'
export { type RunFlowOptions, type RunResult, runFlow } from './run-flow.ts'
export {
  describeFlow,
  type FlowSchematic,
  SCHEMATIC_VERSION,
  type SchematicEdge,
  type SchematicNode,
} from './schematic.ts'
export {
  type ChangeSeverity,
  type DiffSeverity,
  diffSchematics,
  type NodeField,
  type SchematicChange,
  type SchematicDiff,
} from './schematic-diff.ts'
export {
  diffSchematicDocuments,
  readSchematicDocument,
  type SchematicDocument,
  type SchematicDocumentDiff,
  schematicDocument,
} from './schematic-document.ts'
export { type AnyStep, type Step, type StepContext, type StepOptions, type StepResult, step } from './step.ts'
export {
  type EmittedEvent,
  FakeClock,
  type FakeClockOptions,
  type InjectedFault,
  type RunTrace,
  type TestFlowOptions,
  type TestRun,
  testFlow,
} from './testing.ts'
