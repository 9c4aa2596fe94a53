import type { EndpointKind, FieldType, OnDelete, ResourceEvent, StringFormat } from './definition.ts'

/** Every field type, in the order the docs list them. */
export const fieldTypes: readonly FieldType[] = [
  'uuid',
  'string',
  'text',
  'integer',
  'bigint',
  'number',
  'boolean',
  'timestamp',
  'date',
  'enum',
  'json',
]

/** The string formats a field may name. */
export const stringFormats: readonly StringFormat[] = [
  'email',
  'uri',
  'uuid',
  'date-time',
  'date',
  'time',
  'ipv4',
  'ipv6',
]

/** The endpoint kinds, in route order. */
export const endpointKinds: readonly EndpointKind[] = ['list', 'get', 'create', 'update', 'delete']

/** The events a resource may emit. */
export const resourceEvents: readonly ResourceEvent[] = ['created', 'updated', 'deleted']

/** The `onDelete` actions of a reference. */
export const onDeleteActions: readonly OnDelete[] = ['restrict', 'cascade', 'set_null']

/** The relation types. */
export const relationTypes = ['belongs_to', 'has_many', 'has_one'] as const

/** Query parameters of `list` that no filter field may shadow. */
export const listQueryParameters: readonly string[] = ['q', 'sort', 'limit', 'cursor', 'offset']

/** A resource, field or index name: lowercase snake_case, a PostgreSQL identifier (63 bytes at most). */
export const snakeCase = /^[a-z][a-z0-9_]{0,62}$/

/** A role name in an `auth` list. */
export const roleName = /^[A-Za-z][\w:.-]{0,63}$/

/** The max length of a `string` field that declares none. */
export const defaultStringMax = 255

/** Pagination defaults. */
export const defaultPageLimit = 20
export const defaultMaxPageLimit = 100

/** Field types a `min`/`max` applies to: length for strings, value for numbers. */
export const lengthTypes: readonly FieldType[] = ['string', 'text']
export const numericTypes: readonly FieldType[] = ['integer', 'bigint', 'number']

/** Field types that may be `generated`, and what fills them. */
export const generatedTypes: readonly FieldType[] = ['uuid', 'timestamp', 'date', 'integer', 'bigint']

/** Field types a primary key, owner or tenant field may have. */
export const keyTypes: readonly FieldType[] = ['uuid', 'string', 'integer', 'bigint']

/** Field types usable in filters and sort (json cannot be compared meaningfully). */
export const comparableTypes: readonly FieldType[] = fieldTypes.filter((type) => type !== 'json')
