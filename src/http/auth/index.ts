/** Authentication and authorization guards of `keel/http`: JWT, API keys, roles and scopes. */
export { type ApiKeyAuthOptions, type ApiKeyLookup, type ApiKeyRecord, apiKeyAuth } from './api-key-auth.ts'
export { type ApiKeyHashOptions, type GeneratedApiKey, generateApiKey, hashApiKey } from './api-key-hash.ts'
export type { AuthOutcome } from './auth-metrics.ts'
export { type AuthorizeOptions, authorize, requireRoles, requireScopes } from './authorize.ts'
export type { JwtAlgorithm } from './jwt-algorithms.ts'
export { type JwtAuthOptions, jwtAuth } from './jwt-auth.ts'
export type { JwksOptions, JwtKeyOptions } from './jwt-keys.ts'
export { principalOf, requirePrincipal } from './principal-of.ts'
