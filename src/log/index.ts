export {
  currentContext,
  currentSpanIds,
  type RequestContext,
  runWithContext,
  type SpanIds,
  setContextSource,
  setSpanSource,
} from './context.ts'
export { createLogger, type KeelLogger, type Logger, type LoggerOptions } from './create-logger.ts'
export { type LevelSpec, type LogLevel, levelSpecProblems, logLevels, parseLevelSpec } from './level-spec.ts'
export { isSecretKey, markSecretKey, REDACTED, redactDeep, redactUrl, wellKnownSecretKeys } from './redact.ts'
export { redactPathProblems } from './redact-paths.ts'
