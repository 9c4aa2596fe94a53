export { type BuildOptions, type BuildReport, buildService } from './build/index.ts'
export {
  type CheckItem,
  type CheckStatus,
  checkReadiness,
  type ReadinessReport,
  readinessChecks,
} from './check/index.ts'
export { type DeployedConfig, deployedConfig, envNameOf } from './deployed-config.ts'
export {
  type BackingService,
  type DeploymentPlan,
  type DeploySettings,
  deploymentPlan,
  dnsLabel,
  serviceUrlVariables,
} from './deployment-plan.ts'
export type { GeneratedFile, Generator } from './generated-file.ts'
export { type GeneratorTarget, generators } from './generators.ts'
export { placeholderFor, restoreReferences } from './placeholder.ts'
