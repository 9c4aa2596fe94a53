export { currentContext, type RequestContext, runWithContext } from './context.ts'
export { createLogger, type KeelLogger, type Logger, type LoggerOptions } from './create-logger.ts'
export { type LevelSpec, type LogLevel, levelSpecProblems, logLevels, parseLevelSpec } from './level-spec.ts'
export { isSecretKey, REDACTED, redactDeep, redactUrl, wellKnownSecretKeys } from './redact.ts'
