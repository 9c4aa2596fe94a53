/**
 * `keel/resources` (first layer): resource files (`resources/<name>.yaml`) parsed into a
 * validated, typed model, with TypeBox schemas and PostgreSQL DDL derived from it, served as
 * REST routes with an answer cache (in memory, or Redis shared by replicas) and change hooks.
 */
export type {
  BooleanField,
  CachePolicy,
  CreateEndpoint,
  DeleteEndpoint,
  EndpointAuth,
  EndpointDefinition,
  EndpointKind,
  EnumField,
  FieldBase,
  FieldDefinition,
  FieldReference,
  FieldType,
  Generation,
  GetEndpoint,
  IndexDefinition,
  JsonField,
  JsonValue,
  ListEndpoint,
  NumericField,
  OnDelete,
  Pagination,
  RelationDefinition,
  ResourceDefinition,
  ResourceEndpoints,
  ResourceEvent,
  StringField,
  StringFormat,
  TemporalField,
  TenantRule,
  UpdateEndpoint,
  UuidField,
} from './definition.ts'
export { findField, primaryKeyOf } from './definition.ts'
export {
  checkResourceFiles,
  loadResources,
  type ResourceFileText,
  type ResourceSet,
  readResources,
} from './load-resources.ts'
export { type ParseResourceResult, parseResource } from './parse-resource.ts'
export { isResourceError, ResourceError } from './resource-error.ts'
export { formatIssue, formatPath, type PathSegment, type ResourceIssue } from './resource-issue.ts'
export type { RowScope } from './routes/access.ts'
export type { ResponseCacheOptions } from './routes/app-response-cache.ts'
export { MemoryResponseCache, type MemoryResponseCacheOptions } from './routes/memory-response-cache.ts'
export { RedisResponseCache, type RedisResponseCacheOptions } from './routes/redis-response-cache.ts'
export {
  changeHookFor,
  isResourceChangeSubscriber,
  type ResourceChange,
  type ResourceChangeHook,
  type ResourceChangeSubscriber,
  type ServedResource,
} from './routes/resource-change.ts'
export type { CacheLookup, ResponseCache } from './routes/response-cache.ts'
export { type ResourceRoutes, type ServeResourcesOptions, serveResources } from './routes/serve-resources.ts'
export { createTableSql, quoteIdentifier, quoteLiteral, type TableSql } from './to-sql.ts'
export { type ResourceSchemas, resourceSchemas, valueSchema } from './to-typebox.ts'
export { fieldTypes, stringFormats } from './vocabulary.ts'
