import type {
  FieldDefinition,
  FieldReference,
  FieldType,
  Generation,
  JsonValue,
  OnDelete,
  StringFormat,
} from './definition.ts'
import { article, describe, type IssueCollector, nameHint } from './issue-collector.ts'
import type { PathSegment } from './resource-issue.ts'
import {
  defaultStringMax,
  fieldTypes,
  generatedTypes,
  keyTypes,
  lengthTypes,
  numericTypes,
  onDeleteActions,
  snakeCase,
  stringFormats,
} from './vocabulary.ts'

/** Every key a field may have; which apply depends on its type. */
const fieldKeys = [
  'type',
  'description',
  'required',
  'unique',
  'sensitive',
  'primary',
  'generated',
  'ref',
  'onDelete',
  'min',
  'max',
  'pattern',
  'format',
  'values',
  'default',
]

/** Type names from other systems, mapped to the Keel type that means the same. */
const typeSynonyms: Record<string, FieldType> = {
  int: 'integer',
  int4: 'integer',
  int32: 'integer',
  long: 'bigint',
  int8: 'bigint',
  int64: 'bigint',
  float: 'number',
  double: 'number',
  decimal: 'number',
  numeric: 'number',
  real: 'number',
  bool: 'boolean',
  datetime: 'timestamp',
  'date-time': 'timestamp',
  timestamptz: 'timestamp',
  str: 'string',
  varchar: 'string',
  object: 'json',
  jsonb: 'json',
  array: 'json',
}

const int32 = 2 ** 31

/**
 * Checks one field (`fields.<name>`) and returns its definition, or `undefined` after reporting
 * what is wrong with it.
 */
export function parseField(name: string, raw: unknown, issues: IssueCollector): FieldDefinition | undefined {
  const path = ['fields', name]
  const before = issues.issues.length
  if (!snakeCase.test(name)) {
    issues.add(
      path,
      `field name "${name}" is not lowercase snake_case`,
      'use lowercase letters, digits and _, starting with a letter (at most 63)',
      'key',
    )
  }
  const spec = issues.mapping(raw, path, '{ type: string, required: true }')
  if (!spec) return undefined
  issues.knownKeys(spec, path, fieldKeys)
  const type = fieldType(spec.type, [...path, 'type'], issues)
  const description =
    spec.description === undefined
      ? undefined
      : issues.string(spec.description, [...path, 'description'], 'describe the field in a sentence')
  const primary = issues.boolean(spec.primary, [...path, 'primary'])
  const sensitive = issues.boolean(spec.sensitive, [...path, 'sensitive'])
  const unique = issues.boolean(spec.unique, [...path, 'unique'])
  const declaredRequired = issues.boolean(spec.required, [...path, 'required'])
  const generated = generation(spec, type, path, issues)
  const ref = reference(spec, declaredRequired || primary, path, issues)
  if (type === undefined) return undefined

  if (primary && !keyTypes.includes(type)) {
    issues.add(
      [...path, 'primary'],
      `${article(type)} field cannot be the primary key`,
      `use one of: ${keyTypes.join(', ')}`,
    )
  }
  if (primary && sensitive) {
    issues.add(
      [...path, 'sensitive'],
      'the primary key cannot be sensitive',
      'every response carries the key',
    )
  }
  const appliesTo = (key: string, types: readonly FieldType[], what: string) => {
    if (spec[key] !== undefined && !types.includes(type)) {
      issues.add(
        [...path, key],
        `${key} does not apply to ${article(type)} field`,
        `${key} is ${what}`,
        'key',
      )
    }
  }
  appliesTo('min', [...lengthTypes, ...numericTypes], 'for string, text (length) and numeric fields (value)')
  appliesTo('max', [...lengthTypes, ...numericTypes], 'for string, text (length) and numeric fields (value)')
  appliesTo('pattern', lengthTypes, 'for string and text fields')
  appliesTo('format', lengthTypes, 'for string and text fields')
  appliesTo('values', ['enum'], 'for enum fields')

  const bounds = range(spec, type, path, issues)
  const base = {
    name,
    ...(description === undefined ? {} : { description }),
    required: declaredRequired || primary || generated !== undefined,
    unique,
    sensitive,
    primary,
    ...(generated === undefined ? {} : { generated }),
    ...(ref === undefined ? {} : { ref }),
  }
  let field: FieldDefinition
  switch (type) {
    case 'string':
    case 'text': {
      const pattern = regex(spec.pattern, [...path, 'pattern'], issues)
      const format = stringFormat(spec.format, [...path, 'format'], issues)
      const max = bounds.max ?? (type === 'string' ? defaultStringMax : undefined)
      field = {
        ...base,
        type,
        ...(bounds.min === undefined ? {} : { min: bounds.min }),
        ...(max === undefined ? {} : { max }),
        ...(pattern === undefined ? {} : { pattern }),
        ...(format === undefined ? {} : { format }),
      }
      break
    }
    case 'integer':
    case 'bigint':
    case 'number':
      field = { ...base, type, ...bounds }
      break
    case 'enum': {
      const values = enumValues(spec.values, [...path, 'values'], issues)
      if (!values) return undefined
      field = { ...base, type, values }
      break
    }
    default:
      field = { ...base, type }
  }
  if (spec.default !== undefined) {
    if (generated !== undefined) {
      issues.add(
        [...path, 'default'],
        'a generated field cannot have a default',
        'remove default or generated',
      )
    } else {
      const value = defaultValue(field, spec.default, [...path, 'default'], issues)
      if (value !== undefined) field = { ...field, default: value } as FieldDefinition
    }
  }
  if (issues.issues.length > before) return undefined
  // name and type first, so a printed definition reads as the file does.
  const { name: _name, type: _type, ...rest } = field
  return { name, type, ...rest } as FieldDefinition
}

function fieldType(value: unknown, path: PathSegment[], issues: IssueCollector): FieldType | undefined {
  if (value === undefined) {
    issues.add(path, 'a field needs a type', `types: ${fieldTypes.join(', ')}`)
    return undefined
  }
  if (typeof value === 'string' && (fieldTypes as readonly string[]).includes(value))
    return value as FieldType
  const text = typeof value === 'string' ? value : describe(value)
  const synonym = typeSynonyms[text.toLowerCase()]
  const hint = synonym ? `did you mean "${synonym}"?` : nameHint(text, fieldTypes, 'types')
  issues.add(path, `unknown type ${JSON.stringify(value)}`, hint)
  return undefined
}

function generation(
  spec: Record<string, unknown>,
  type: FieldType | undefined,
  path: PathSegment[],
  issues: IssueCollector,
): Generation | undefined {
  const value = spec.generated
  if (value === undefined || value === false) return undefined
  if (value !== true && value !== 'update') {
    issues.add(
      [...path, 'generated'],
      `expected true, false or update, got ${describe(value)}`,
      'update refreshes a timestamp on every update',
    )
    return undefined
  }
  if (type === undefined) return undefined
  if (!generatedTypes.includes(type)) {
    issues.add(
      [...path, 'generated'],
      `${article(type)} field cannot be generated`,
      `generated applies to: ${generatedTypes.join(', ')}`,
    )
    return undefined
  }
  if (value === 'update' && type !== 'timestamp') {
    issues.add(
      [...path, 'generated'],
      `generated: update applies to timestamps, not to ${article(type)} field`,
      'use generated: true',
    )
    return undefined
  }
  // A timestamp named updated_at is refreshed on update, as everybody means it to be.
  return value === 'update' || (type === 'timestamp' && path[1] === 'updated_at') ? 'update' : 'insert'
}

function reference(
  spec: Record<string, unknown>,
  required: boolean,
  path: PathSegment[],
  issues: IssueCollector,
): FieldReference | undefined {
  if (spec.ref === undefined) {
    if (spec.onDelete !== undefined) {
      issues.add(
        [...path, 'onDelete'],
        'onDelete needs a ref',
        'add ref: <resource>.<field>, or remove onDelete',
        'key',
      )
    }
    return undefined
  }
  const text = typeof spec.ref === 'string' ? spec.ref : ''
  const match = /^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$/.exec(text)
  if (!match) {
    issues.add(
      [...path, 'ref'],
      `expected <resource>.<field>, got ${describe(spec.ref)}`,
      'for example ref: users.id',
    )
    return undefined
  }
  let onDelete: OnDelete = 'restrict'
  if (spec.onDelete !== undefined) {
    if ((onDeleteActions as readonly unknown[]).includes(spec.onDelete)) onDelete = spec.onDelete as OnDelete
    else {
      issues.add(
        [...path, 'onDelete'],
        `unknown onDelete ${describe(spec.onDelete)}`,
        `allowed: ${onDeleteActions.join(', ')}`,
      )
    }
  }
  if (onDelete === 'set_null' && required) {
    issues.add(
      [...path, 'onDelete'],
      'onDelete: set_null on a required field',
      'set_null needs a field that may be null; use restrict or cascade',
    )
  }
  return { resource: match[1]!, field: match[2]!, onDelete }
}

function range(
  spec: Record<string, unknown>,
  type: FieldType,
  path: PathSegment[],
  issues: IssueCollector,
): { min?: number; max?: number } {
  const isLength = lengthTypes.includes(type)
  if (!isLength && !numericTypes.includes(type)) return {}
  const read = (key: 'min' | 'max'): number | undefined => {
    const value = spec[key]
    if (value === undefined) return undefined
    const integral = isLength || type !== 'number'
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integral || Number.isSafeInteger(value)) &&
      (!isLength || value >= 0) &&
      (type !== 'integer' || (value >= -int32 && value < int32))
    if (ok) return value
    const wanted = isLength
      ? 'a length: an integer ≥ 0'
      : type === 'integer'
        ? `an integer from ${-int32} to ${int32 - 1}`
        : type === 'bigint'
          ? 'a safe integer'
          : 'a finite number'
    issues.add(
      [...path, key],
      `${key} must be ${wanted}, got ${describe(value)}`,
      isLength ? `${key} counts characters` : `${key} bounds the value`,
    )
    return undefined
  }
  const min = read('min')
  const max = read('max')
  if (min !== undefined && max !== undefined && min > max) {
    issues.add([...path, 'max'], `max (${max}) is less than min (${min})`, 'max must be ≥ min')
  }
  if (isLength && max === 0)
    issues.add([...path, 'max'], 'max is 0: only the empty string fits', 'use max ≥ 1')
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) }
}

function regex(value: unknown, path: PathSegment[], issues: IssueCollector): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    issues.add(path, `expected a regular expression, got ${describe(value)}`, "quote it: pattern: '^[a-z]+$'")
    return undefined
  }
  try {
    new RegExp(value, 'u')
    return value
  } catch (error) {
    issues.add(
      path,
      `invalid regular expression: ${(error as Error).message}`,
      'JavaScript regular expression syntax',
    )
    return undefined
  }
}

function stringFormat(value: unknown, path: PathSegment[], issues: IssueCollector): StringFormat | undefined {
  if (value === undefined) return undefined
  if ((stringFormats as readonly unknown[]).includes(value)) return value as StringFormat
  const hint =
    typeof value === 'string'
      ? nameHint(value, stringFormats, 'formats')
      : `formats: ${stringFormats.join(', ')}`
  issues.add(path, `unknown format ${describe(value)}`, hint)
  return undefined
}

function enumValues(
  value: unknown,
  path: PathSegment[],
  issues: IssueCollector,
): readonly string[] | undefined {
  if (value === undefined) {
    issues.add(path, 'an enum field needs values', 'for example values: [low, normal, high]')
    return undefined
  }
  const entries = issues.stringList(value, path, '[low, normal, high]')
  if (!entries) return undefined
  if (entries.length === 0) {
    issues.add(path, 'an enum needs at least one value', 'for example values: [low, normal, high]')
    return undefined
  }
  return entries.map((entry) => entry.value)
}

/** Checks a default against the field's type and constraints; returns it as the model holds it. */
function defaultValue(
  field: FieldDefinition,
  value: unknown,
  path: PathSegment[],
  issues: IssueCollector,
): string | number | boolean | JsonValue | undefined {
  const fail = (message: string, hint: string) => {
    issues.add(path, message, hint)
    return undefined
  }
  const got = describe(value)
  switch (field.type) {
    case 'string':
    case 'text': {
      if (typeof value !== 'string')
        return fail(`default must be a string, got ${got}`, "quote it: default: '42'")
      if (field.min !== undefined && value.length < field.min)
        return fail(`default is shorter than min (${field.min})`, 'the default must satisfy the field')
      if (field.max !== undefined && value.length > field.max)
        return fail(`default is longer than max (${field.max})`, 'the default must satisfy the field')
      if (field.pattern !== undefined && !new RegExp(field.pattern, 'u').test(value)) {
        return fail('default does not match pattern', 'the default must satisfy the field')
      }
      return value
    }
    case 'integer':
    case 'bigint':
    case 'number': {
      const integral = field.type !== 'number'
      if (typeof value !== 'number' || (integral && !Number.isSafeInteger(value))) {
        return fail(
          `default must be ${integral ? 'an integer' : 'a number'}, got ${got}`,
          'write it unquoted',
        )
      }
      if ((field.min !== undefined && value < field.min) || (field.max !== undefined && value > field.max)) {
        return fail(`default ${value} is outside min/max`, 'the default must satisfy the field')
      }
      return value
    }
    case 'boolean':
      return typeof value === 'boolean'
        ? value
        : fail(`default must be true or false, got ${got}`, 'write true or false (unquoted)')
    case 'enum':
      return typeof value === 'string' && field.values.includes(value)
        ? value
        : fail(`default ${got} is not one of the values`, `values: ${field.values.join(', ')}`)
    case 'uuid':
      return typeof value === 'string' &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
        ? value
        : fail(`default must be a UUID, got ${got}`, 'for a new UUID per row use generated: true')
    case 'timestamp':
      return typeof value === 'string' &&
        /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value) &&
        !Number.isNaN(Date.parse(value))
        ? value
        : fail(
            `default must be an ISO 8601 date-time with a zone, got ${got}`,
            'for "now" use generated: true',
          )
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d\d-\d\d$/.test(value) && !Number.isNaN(Date.parse(value))
        ? value
        : fail(`default must be a date (YYYY-MM-DD), got ${got}`, 'for "today" use generated: true')
    case 'json':
      return value as JsonValue
  }
}
