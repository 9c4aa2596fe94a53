import type { Registry } from 'prom-client'
import {
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  type CounterChild,
  perRegistry,
} from '../telemetry/index.ts'

/** Step durations: 100 µs to 60 s, since steps range from a map lookup to a remote call with retries. */
const stepBuckets = [0.0001, 0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60]

/** Counters and histograms for one step of one flow, bound once and reused on every run. */
export interface StepMetrics {
  /** One attempt finished: `completed`, `faulted` (typed fault) or `failed` (threw). */
  attempt(outcome: 'completed' | 'faulted' | 'failed', seconds: number): void
  /** The step exhausted its retries; the run went to the dead-letter list. */
  dead(): void
  compensation(outcome: 'completed' | 'failed'): void
}

/** Flow metrics on an app's registry: runs by final status, active runs, per-step RED. */
export interface FlowMetrics {
  step(flow: string, step: string): StepMetrics
  runStarted(flow: string): void
  runEnded(flow: string, status: string): void
}

/** The flow metrics of `registry`, created on first use so two runners on one registry share them. */
export const flowMetrics: (registry: Registry) => FlowMetrics = perRegistry(createFlowMetrics)

// Bound metrics (telemetry/bound-metrics.ts): a step costs well under a microsecond of Keel's
// own time, and prom-client's per-call label hashing would cost more than that.
function createFlowMetrics(registry: Registry): FlowMetrics {
  const steps = new BoundCounter({
    name: 'keel_flow_step_runs_total',
    help: 'Step attempts by flow, step and outcome (completed, faulted, failed)',
    labelNames: ['flow', 'step', 'outcome'],
    registry,
  })
  const duration = new BoundHistogram({
    name: 'keel_flow_step_duration_seconds',
    help: 'Duration of one step attempt',
    labelNames: ['flow', 'step'],
    buckets: stepBuckets,
    registry,
  })
  const dead = new BoundCounter({
    name: 'keel_flow_step_dead_total',
    help: 'Steps that exhausted their retries, sending the run to the dead-letter list',
    labelNames: ['flow', 'step'],
    registry,
  })
  const compensations = new BoundCounter({
    name: 'keel_flow_compensations_total',
    help: 'Compensation attempts by flow, step and outcome',
    labelNames: ['flow', 'step', 'outcome'],
    registry,
  })
  const runs = new BoundCounter({
    name: 'keel_flow_runs_total',
    help: 'Flow runs that ended (or went dead, or were interrupted) in this process, by status',
    labelNames: ['flow', 'status'],
    registry,
  })
  const active = new BoundGauge({
    name: 'keel_flow_runs_active',
    help: 'Flow runs executing in this process now',
    labelNames: ['flow'],
    registry,
  })
  const bound = new Map<string, Map<string, StepMetrics>>()
  const activeByFlow = new Map<string, CounterChild>()
  const activeOf = (flow: string) => {
    let child = activeByFlow.get(flow)
    if (!child) {
      child = active.labels(flow)
      activeByFlow.set(flow, child)
    }
    return child
  }
  return {
    step(flow, step) {
      let ofFlow = bound.get(flow)
      if (!ofFlow) {
        ofFlow = new Map()
        bound.set(flow, ofFlow)
      }
      let metrics = ofFlow.get(step)
      if (!metrics) {
        const completed = steps.labels(flow, step, 'completed')
        const faulted = steps.labels(flow, step, 'faulted')
        const failed = steps.labels(flow, step, 'failed')
        const seconds = duration.labels(flow, step)
        const deadSteps = dead.labels(flow, step)
        const compensated = compensations.labels(flow, step, 'completed')
        const compensationFailed = compensations.labels(flow, step, 'failed')
        metrics = {
          attempt(outcome, s) {
            ;(outcome === 'completed' ? completed : outcome === 'faulted' ? faulted : failed).inc()
            seconds.observe(s)
          },
          dead: () => deadSteps.inc(),
          compensation: (outcome) => (outcome === 'completed' ? compensated : compensationFailed).inc(),
        }
        ofFlow.set(step, metrics)
      }
      return metrics
    },
    runStarted: (flow) => activeOf(flow).inc(),
    runEnded(flow, status) {
      activeOf(flow).inc(-1)
      runs.labels(flow, status).inc()
    },
  }
}
