export { cpuMillicores, memoryBytes } from '../quantity.ts'
export {
  type CheckReadinessOptions,
  checkReadiness,
  type ReadinessReport,
  readinessChecks,
} from './check-readiness.ts'
export type { CheckContext, CheckItem, CheckStatus, ReadinessCheck } from './readiness-check.ts'
