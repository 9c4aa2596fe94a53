export { ConfigError, type ConfigIssue, formatIssue } from './config-error.ts'
export { type ConfigEntry, type LoadConfigOptions, type LoadedConfig, loadConfig } from './load.ts'
export { REDACTED, redactSecret } from './redact.ts'
export {
  builtInProfiles,
  type ConfigSection,
  defineConfigSection,
  type KernelConfig,
  kernelSections,
  Secret,
} from './schema.ts'
export { describeSource, type ValueSource } from './source.ts'
