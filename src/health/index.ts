export type { CheckOutcome, CheckResult, HealthCheck, HealthReport } from './check.ts'
export { HealthRegistry, type HealthRegistryOptions } from './registry.ts'
