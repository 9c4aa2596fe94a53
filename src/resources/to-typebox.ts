import { type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox'
import { registerFormats } from '../http/formats.ts'
import {
  type FieldDefinition,
  findField,
  type ListEndpoint,
  primaryKeyOf,
  type ResourceDefinition,
} from './definition.ts'

/** The TypeBox schemas of one resource: what its routes validate and answer. */
export interface ResourceSchemas {
  /** A row as a response carries it: every field but the sensitive ones; nullable fields may be `null`. */
  readonly row: TObject
  /** The route parameters addressing one row: `{ <primary key>: … }`. */
  readonly params: TObject
  /** The body of create: the fields of `create.input`; required ones without a default must be there. */
  readonly create?: TObject
  /** The body of update: any non-empty subset of `update.input`. */
  readonly update?: TObject
  /** The query of list: the declared filters, `q`, `sort`, `limit`, and `cursor` or `offset`. */
  readonly listQuery?: TObject
}

/**
 * The TypeBox schemas for a resource's rows, inputs and list query. Every object is closed
 * (`additionalProperties: false`): an unknown property is refused, never ignored. Timestamps
 * and dates are ISO 8601 strings on the wire (`date-time`, `date` formats), uuids are strings in
 * `uuid` format. Registers Keel's string formats with TypeBox, which knows none by default.
 *
 * @example
 * ```ts
 * const schemas = resourceSchemas(todos)
 * const check = TypeCompiler.Compile(schemas.create!)
 * check.Check({ title: 'Write docs' }) // true
 * ```
 */
export function resourceSchemas(resource: ResourceDefinition): ResourceSchemas {
  registerFormats()
  const { create, update, list } = resource.endpoints
  const pk = primaryKeyOf(resource)
  return {
    row: closed(
      Object.fromEntries(
        resource.fields
          .filter((field) => !field.sensitive)
          .map((field) => [field.name, nullable(field, answerSchema(field))]),
      ),
    ),
    params: closed({ [pk.name]: valueSchema(pk) }),
    ...(create ? { create: createSchema(resource, create.input) } : {}),
    ...(update ? { update: updateSchema(resource, update.input) } : {}),
    ...(list ? { listQuery: listQuerySchema(resource, list) } : {}),
  }
}

function createSchema(resource: ResourceDefinition, input: readonly string[]): TObject {
  const properties: TProperties = {}
  for (const field of fieldsNamed(resource, input)) {
    // The owner field falls back to the caller's subject, so it is never required in the body.
    const mustSend = field.required && field.default === undefined && field.name !== resource.owner
    properties[field.name] = mustSend ? valueSchema(field) : Type.Optional(nullable(field))
  }
  return closed(properties)
}

function updateSchema(resource: ResourceDefinition, input: readonly string[]): TObject {
  const properties: TProperties = {}
  for (const field of fieldsNamed(resource, input)) properties[field.name] = Type.Optional(nullable(field))
  return Type.Object(properties, { additionalProperties: false, minProperties: 1 })
}

function listQuerySchema(resource: ResourceDefinition, list: ListEndpoint): TObject {
  const properties: TProperties = {}
  for (const field of fieldsNamed(resource, list.filters))
    properties[field.name] = Type.Optional(valueSchema(field))
  if (list.search.length > 0) properties.q = Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
  if (list.sort.length > 0) {
    const orders = list.sort.flatMap((name) => [Type.Literal(name), Type.Literal(`-${name}`)])
    properties.sort = Type.Optional(Type.Union(orders))
  }
  const { style, defaultLimit, maxLimit } = list.pagination
  properties.limit = Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit, default: defaultLimit }))
  properties[style] = Type.Optional(
    style === 'cursor' ? Type.String({ minLength: 1, maxLength: 1024 }) : Type.Integer({ minimum: 0 }),
  )
  return closed(properties)
}

const closed = (properties: TProperties): TObject => Type.Object(properties, { additionalProperties: false })

const fieldsNamed = (resource: ResourceDefinition, names: readonly string[]): FieldDefinition[] =>
  names.map((name) => findField(resource, name)!)

/** The field's schema, allowing `null` when the column does. */
function nullable(field: FieldDefinition, schema: TSchema = valueSchema(field)): TSchema {
  return field.required || field.type === 'json' ? schema : Type.Union([schema, Type.Null()])
}

/**
 * The schema of a field's value in answers: a `bigint` past ±(2^53 − 1) is its decimal string
 * (input stays within the safe range, but rows written by other means may not).
 */
function answerSchema(field: FieldDefinition): TSchema {
  const schema = valueSchema(field)
  if (field.type !== 'bigint') return schema
  return Type.Union([
    schema,
    Type.String({
      pattern: '^-?[0-9]{16,19}$',
      description: 'a value past ±(2^53 − 1), as a decimal string',
    }),
  ])
}

/** The schema of a field's (non-null) value. */
export function valueSchema(field: FieldDefinition): TSchema {
  const described = field.description === undefined ? {} : { description: field.description }
  switch (field.type) {
    case 'uuid':
      return Type.String({ format: 'uuid', ...described })
    case 'string':
    case 'text':
      return Type.String({
        ...described,
        ...(field.min === undefined ? {} : { minLength: field.min }),
        ...(field.max === undefined ? {} : { maxLength: field.max }),
        ...(field.pattern === undefined ? {} : { pattern: field.pattern }),
        ...(field.format === undefined ? {} : { format: field.format }),
      })
    case 'integer':
    case 'bigint':
    case 'number': {
      const bounds = {
        ...described,
        ...(field.min === undefined ? {} : { minimum: field.min }),
        ...(field.max === undefined ? {} : { maximum: field.max }),
      }
      if (field.type === 'number') return Type.Number(bounds)
      const [minimum, maximum] =
        field.type === 'integer'
          ? [-(2 ** 31), 2 ** 31 - 1]
          : [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
      return Type.Integer({ minimum, maximum, ...bounds })
    }
    case 'boolean':
      return Type.Boolean(described)
    case 'timestamp':
      return Type.String({ format: 'date-time', ...described })
    case 'date':
      return Type.String({ format: 'date', ...described })
    case 'enum':
      return Type.Union(
        field.values.map((value) => Type.Literal(value)),
        described,
      )
    case 'json':
      return Type.Unknown(described)
  }
}
