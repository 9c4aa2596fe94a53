/**
 * Every error code a Keel user can meet. Codes are stable: they appear in logs, problem
 * details (`type`) and CLI output, so renaming one is a breaking change.
 */
export const KeelErrorCodes = {
  KEEL_CONFIG_INVALID: 'the merged configuration does not match its schema',
  KEEL_CONFIG_FILE_UNREADABLE: 'keel.yaml exists but cannot be read or parsed',
  KEEL_CONFIG_MISSING_VAR: 'a ${VAR} reference names an unset variable without a default',
  KEEL_CONFIG_UNKNOWN_PROFILE: 'KEEL_PROFILE names a profile the file does not define',
  KEEL_CONFIG_SECTION_CONFLICT: 'two modules declare the same config section',
  KEEL_LOG_DESTINATION: 'the log destination cannot be opened for writing',
  KEEL_LOG_LEVEL: 'a log level specification cannot be parsed',
  KEEL_PORT_IN_USE: 'the port the server should listen on is taken',
  KEEL_LISTEN_FAILED: 'the server could not listen for another reason',
  KEEL_HEALTH_CHECK_DUPLICATE: 'two health checks share a name',
  KEEL_MODULE_INVALID: 'a module definition is malformed',
  KEEL_MODULE_DEPENDENCY: 'a module depends on a module that is missing or forms a cycle',
  KEEL_MODULE_START_FAILED: 'a module failed to start',
  KEEL_NOT_READY: 'the app is starting, draining, or a critical health check fails',
  KEEL_APP_STATE: 'an operation was attempted in the wrong lifecycle state',
  KEEL_ROUTE_INVALID: 'a route definition is malformed',
  KEEL_NOT_FOUND: 'no route matches the request path',
  KEEL_METHOD_NOT_ALLOWED: 'the path exists but not for this method',
  KEEL_VALIDATION: 'the request has values its route schema does not accept',
  KEEL_MALFORMED_JSON: 'the request body is not valid JSON (or not UTF-8)',
  KEEL_UNSUPPORTED_MEDIA_TYPE: 'the request body has a content type the route does not accept',
  KEEL_BODY_TOO_LARGE: 'the request body is larger than the limit',
  KEEL_TIMEOUT: 'the handler did not answer within its timeout',
  KEEL_RATE_LIMITED: 'the client sent more requests than its limit allows',
  KEEL_UNAUTHORIZED: 'the request carries no valid credentials',
  KEEL_FORBIDDEN: 'the credentials lack a role or scope the route requires',
  KEEL_CONFLICT: 'the request conflicts with the current state of the resource',
  KEEL_UNPROCESSABLE: 'the request is well-formed but semantically invalid',
  KEEL_INTERNAL: 'an unexpected error; details are in the server log, never in the response',
  KEEL_CLI_USAGE: 'a CLI command was called with bad arguments',
  KEEL_ENTRY_INVALID: 'the app entry module does not export an app',
} as const

export type KeelErrorCode = keyof typeof KeelErrorCodes
