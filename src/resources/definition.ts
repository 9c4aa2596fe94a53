/**
 * The typed model of a resource file (`resources/<name>.yaml`), as {@link parseResource} returns
 * it: every default applied, every name checked, nothing left to interpret. The routes layer
 * builds CRUD routes, SQL, auth checks and caching from it; the migration generator builds the
 * table from it. Everything is readonly: a definition is a value, never changed after parsing.
 */

/** The column types a field can have. */
export type FieldType =
  | 'uuid'
  | 'string'
  | 'text'
  | 'integer'
  | 'bigint'
  | 'number'
  | 'boolean'
  | 'timestamp'
  | 'date'
  | 'enum'
  | 'json'

/** The string formats a `string` or `text` field can require (the ones `keel/http` validates). */
export type StringFormat = 'email' | 'uri' | 'uuid' | 'date-time' | 'date' | 'time' | 'ipv4' | 'ipv6'

/** A JSON value, as a `json` field's default holds it. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue }

/**
 * When the database fills a field: `insert` on insert only (`gen_random_uuid()`, `now()`, an
 * identity); `update` on insert and again on every update (a timestamp such as `updated_at`).
 */
export type Generation = 'insert' | 'update'

/** What happens to rows whose reference points at a deleted row. */
export type OnDelete = 'restrict' | 'cascade' | 'set_null'

/** A foreign key: the field holds a value of `resource.field`. */
export interface FieldReference {
  readonly resource: string
  readonly field: string
  /** Default `restrict`: a referenced row cannot be deleted while rows point at it. */
  readonly onDelete: OnDelete
}

/** What every field has, whatever its type. */
export interface FieldBase {
  /** The column name: lowercase snake_case. */
  readonly name: string
  readonly description?: string
  /**
   * The column is `not null`. True when the file says `required: true`, and always for the
   * primary key and generated fields. A field that is not required accepts and stores `null`.
   */
  readonly required: boolean
  /** A unique constraint (the primary key is unique without it). */
  readonly unique: boolean
  /** Never in a response, a filter, a sort or a search; still accepted as input (a password). */
  readonly sensitive: boolean
  /** The one primary key of the resource. */
  readonly primary: boolean
  /** Set by the database, never from input; absent when the client or a default provides it. */
  readonly generated?: Generation
  readonly ref?: FieldReference
}

/** `string` (short, default max 255) or `text` (long, no default limit). */
export interface StringField extends FieldBase {
  readonly type: 'string' | 'text'
  /** Minimum length in characters. */
  readonly min?: number
  /** Maximum length in characters; a `string` field without `max` has 255. */
  readonly max?: number
  /** A regular expression (JavaScript syntax) the whole value must match; checked on input only. */
  readonly pattern?: string
  readonly format?: StringFormat
  readonly default?: string
}

/** `integer` (32-bit), `bigint` (64-bit, read back as a number while it is a safe integer) or `number` (double precision). */
export interface NumericField extends FieldBase {
  readonly type: 'integer' | 'bigint' | 'number'
  /** Minimum value, inclusive. */
  readonly min?: number
  /** Maximum value, inclusive. */
  readonly max?: number
  readonly default?: number
}

/** `boolean`. */
export interface BooleanField extends FieldBase {
  readonly type: 'boolean'
  readonly default?: boolean
}

/** `enum`: one of `values`, stored as text with a check constraint. */
export interface EnumField extends FieldBase {
  readonly type: 'enum'
  readonly values: readonly string[]
  readonly default?: string
}

/** `uuid`. */
export interface UuidField extends FieldBase {
  readonly type: 'uuid'
  readonly default?: string
}

/** `timestamp` (with time zone, ISO 8601 date-time on the wire) or `date` (`YYYY-MM-DD`). */
export interface TemporalField extends FieldBase {
  readonly type: 'timestamp' | 'date'
  /** An ISO 8601 literal; "now" is `generated: true`, not a default. */
  readonly default?: string
}

/** `json`: any JSON value, stored as `jsonb`. */
export interface JsonField extends FieldBase {
  readonly type: 'json'
  readonly default?: JsonValue
}

/** One field (column) of a resource; `type` tells which members it has. */
export type FieldDefinition =
  | StringField
  | NumericField
  | BooleanField
  | EnumField
  | UuidField
  | TemporalField
  | JsonField

/**
 * Who may call an endpoint. Access is granted when any one rule matches: the caller is
 * anonymous-allowed (`isPublic`), holds one of `roles`, or (`allowsOwner`) is the row's owner,
 * i.e. its JWT subject equals the row's owner field. `isPublic` never combines with the others.
 */
export interface EndpointAuth {
  readonly isPublic: boolean
  readonly roles: readonly string[]
  readonly allowsOwner: boolean
}

/** Response caching of a read endpoint. */
export interface CachePolicy {
  /** How long an answer may be served from the cache, in whole seconds (> 0). */
  readonly ttlSeconds: number
}

/** How `list` pages: `cursor` (opaque `cursor` token, stable under inserts) or `offset`. */
export interface Pagination {
  readonly style: 'cursor' | 'offset'
  /** Page size when the request gives no `limit`. Default 20. */
  readonly defaultLimit: number
  /** The largest `limit` a request may ask for. Default 100. */
  readonly maxLimit: number
}

/** `GET /<resource>`: a page of rows. */
export interface ListEndpoint {
  readonly kind: 'list'
  readonly auth: EndpointAuth
  /** Fields a request may filter on by equality (`?done=true`). */
  readonly filters: readonly string[]
  /** `string`/`text` fields the `q` parameter searches (case-insensitive substring). */
  readonly search: readonly string[]
  /** Fields a request may sort by (`?sort=created_at`, `?sort=-created_at`); the primary key breaks ties. */
  readonly sort: readonly string[]
  readonly pagination: Pagination
  readonly cache?: CachePolicy
}

/** `GET /<resource>/:id`: one row. */
export interface GetEndpoint {
  readonly kind: 'get'
  readonly auth: EndpointAuth
  readonly cache?: CachePolicy
}

/** `POST /<resource>`: insert a row from `input`. */
export interface CreateEndpoint {
  readonly kind: 'create'
  readonly auth: EndpointAuth
  /** The fields a request body may set; every other field is refused. */
  readonly input: readonly string[]
}

/** `PATCH /<resource>/:id`: change some of `input`. */
export interface UpdateEndpoint {
  readonly kind: 'update'
  readonly auth: EndpointAuth
  readonly input: readonly string[]
}

/** `DELETE /<resource>/:id`: delete the row, or set `deleted_at` when the resource soft-deletes. */
export interface DeleteEndpoint {
  readonly kind: 'delete'
  readonly auth: EndpointAuth
}

/** One endpoint of any kind. */
export type EndpointDefinition = ListEndpoint | GetEndpoint | CreateEndpoint | UpdateEndpoint | DeleteEndpoint

/** The endpoint kinds. */
export type EndpointKind = EndpointDefinition['kind']

/** The endpoints a resource declares; one it leaves out has no route. */
export interface ResourceEndpoints {
  readonly list?: ListEndpoint
  readonly get?: GetEndpoint
  readonly create?: CreateEndpoint
  readonly update?: UpdateEndpoint
  readonly delete?: DeleteEndpoint
}

/**
 * A link to another resource. `belongs_to`: `key` is a field of this resource holding the other
 * one's primary key. `has_many`/`has_one`: `key` is a field of the other resource holding this
 * one's primary key.
 */
export interface RelationDefinition {
  readonly name: string
  readonly resource: string
  readonly type: 'belongs_to' | 'has_many' | 'has_one'
  readonly key: string
}

/** An index beyond those of the primary key and unique fields. */
export interface IndexDefinition {
  /** The index name in the database (`<resource>_<fields>_idx` unless the file names it). */
  readonly name: string
  readonly fields: readonly string[]
  readonly unique: boolean
}

/** The change events a resource emits. */
export type ResourceEvent = 'created' | 'updated' | 'deleted'

/** Rows are isolated per tenant: each request sees only rows whose `field` equals its JWT `claim`. */
export interface TenantRule {
  readonly field: string
  /** The JWT claim holding the tenant (the same name as the field). */
  readonly claim: string
}

/** A validated resource. */
export interface ResourceDefinition {
  /** The resource name: table name and route segment, lowercase snake_case. */
  readonly name: string
  /** The API version: routes live under `/v<version>/<name>`. */
  readonly version: number
  readonly description?: string
  /** The fields in the order the file declares them (the table's column order). */
  readonly fields: readonly FieldDefinition[]
  /** The name of the primary key field. */
  readonly primaryKey: string
  readonly tenant?: TenantRule
  /** The field compared with the JWT subject by the `owner` auth rule. */
  readonly owner?: string
  /** `delete` sets `deleted_at` instead of deleting; reads hide rows where it is set. */
  readonly softDelete: boolean
  readonly endpoints: ResourceEndpoints
  readonly relations: readonly RelationDefinition[]
  readonly indexes: readonly IndexDefinition[]
  readonly events: readonly ResourceEvent[]
  /** The file the definition was read from, as shown in messages. */
  readonly file: string
}

/** The field named `name`, if the resource has one. */
export function findField(resource: ResourceDefinition, name: string): FieldDefinition | undefined {
  return resource.fields.find((field) => field.name === name)
}

/** The primary key field of a resource. */
export function primaryKeyOf(resource: ResourceDefinition): FieldDefinition {
  return findField(resource, resource.primaryKey)!
}
