import { Gauge, type Registry } from 'prom-client'
import type { CheckResult } from '../health/index.ts'
import type { LifecycleState } from './lifecycle.ts'

/** Gauges for the lifecycle state and each health check, so alerts can see both. */
export function createKernelMetrics(registry: Registry) {
  const state = new Gauge({
    name: 'keel_app_state',
    help: '1 for the lifecycle state the app is in, 0 for the others',
    labelNames: ['state'],
    registers: [registry],
  })
  const check = new Gauge({
    name: 'keel_health_check_up',
    help: '1 when the named health check passed on its last run, 0 when it failed',
    labelNames: ['check', 'critical'],
    registers: [registry],
  })
  const checkDuration = new Gauge({
    name: 'keel_health_check_duration_seconds',
    help: 'Duration of the last run of the named health check',
    labelNames: ['check'],
    registers: [registry],
  })
  const states: LifecycleState[] = ['created', 'starting', 'ready', 'draining', 'stopped']
  return {
    setState(current: LifecycleState) {
      for (const s of states) state.set({ state: s }, s === current ? 1 : 0)
    },
    recordCheck(result: CheckResult) {
      check.set({ check: result.name, critical: String(result.critical) }, result.status === 'pass' ? 1 : 0)
      checkDuration.set({ check: result.name }, result.durationMs / 1000)
    },
  }
}
