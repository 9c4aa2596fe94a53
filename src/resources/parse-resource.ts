import type { FieldDefinition, ResourceDefinition, ResourceEvent, TenantRule } from './definition.ts'
import { article, entryPath, IssueCollector, isMapping, nameHint } from './issue-collector.ts'
import { parseEndpoints } from './parse-endpoints.ts'
import { parseField } from './parse-field.ts'
import { parseIndexes } from './parse-indexes.ts'
import { parseRelations } from './parse-relations.ts'
import { type ResourceIssue, sortIssues } from './resource-issue.ts'
import { keyTypes, resourceEvents, snakeCase } from './vocabulary.ts'
import { readYamlSource, type YamlSource } from './yaml-source.ts'

/** What {@link parseResource} found: the definition, or every issue of the file. */
export type ParseResourceResult =
  | { readonly ok: true; readonly definition: ResourceDefinition }
  | { readonly ok: false; readonly issues: readonly ResourceIssue[] }

const topLevelKeys = [
  'resource',
  'version',
  'description',
  'tenant',
  'owner',
  'softDelete',
  'fields',
  'endpoints',
  'relations',
  'indexes',
  'events',
]

/** Keys other resource formats use for what Keel calls otherwise. */
const topLevelSynonyms: Record<string, string> = {
  schema: 'fields',
  tenant_key: 'tenant',
  owner_key: 'owner',
  name: 'resource',
}

/**
 * Parses and checks one resource file. `file` names the file in issues. Every issue in the file
 * is reported, each with its line, column, key path and a hint; unknown keys are issues too
 * (fail closed). References to other resources are checked by {@link loadResources}, which sees
 * them all.
 *
 * @example
 * ```ts
 * const result = parseResource(await readFile('resources/todos.yaml', 'utf8'), 'resources/todos.yaml')
 * if (!result.ok) for (const issue of result.issues) console.error(formatIssue(issue))
 * ```
 */
export function parseResource(text: string, file: string): ParseResourceResult {
  const parsed = parseResourceSource(text, file)
  return parsed.definition && parsed.issues.length === 0
    ? { ok: true, definition: parsed.definition }
    : { ok: false, issues: sortIssues(parsed.issues) }
}

/** A parsed file, for the checks across files: its name even when invalid, and its source to locate issues. */
export interface ParsedResourceFile {
  readonly file: string
  readonly name?: string
  readonly definition?: ResourceDefinition
  readonly issues: readonly ResourceIssue[]
  readonly source?: YamlSource
}

/** {@link parseResource} with what {@link loadResources} needs to check across files. */
export function parseResourceSource(text: string, file: string): ParsedResourceFile {
  const source = readYamlSource(text, file)
  if (Array.isArray(source)) return { file, issues: source }
  const issues = new IssueCollector(source)
  if (source.value === null || source.value === undefined) {
    issues.add([], 'the file is empty', 'start with resource: <name>, version: 1 and fields')
    return { file, issues: issues.issues, source }
  }
  const spec = issues.mapping(source.value, [], 'resource: todos, version: 1, fields: …')
  if (!spec) return { file, issues: issues.issues, source }
  issues.knownKeys(spec, [], topLevelKeys, (key) => {
    const meant = topLevelSynonyms[key]
    return meant ? `did you mean "${meant}"?` : undefined
  })

  const name = resourceName(spec.resource, issues)
  if (spec.version === undefined)
    issues.add(['version'], 'version is missing', 'version: 1 (routes are served under /v1/…)')
  const version =
    spec.version === undefined
      ? undefined
      : issues.positiveInteger(spec.version, ['version'], 'the API version: 1, 2, …')
  const description =
    spec.description === undefined
      ? undefined
      : issues.string(spec.description, ['description'], 'describe the resource in a sentence')
  const softDelete = issues.boolean(spec.softDelete, ['softDelete'])
  const { fields, complete } = parseFields(spec.fields, issues)
  const primaryKey = findPrimaryKey(fields, complete, issues)
  if (softDelete && fields.some((field) => field.name === 'deleted_at')) {
    issues.add(
      ['fields', 'deleted_at'],
      'softDelete adds deleted_at itself',
      'remove the deleted_at field, or softDelete',
      'key',
    )
  }
  const declared = isMapping(spec.fields) ? Object.keys(spec.fields) : []
  const tenantField = keyField(spec.tenant, 'tenant', fields, declared, issues)
  const owner = keyField(spec.owner, 'owner', fields, declared, issues)
  const tenant: TenantRule | undefined =
    tenantField === undefined ? undefined : { field: tenantField, claim: tenantField }
  const context = {
    fields,
    declared,
    ...(primaryKey === undefined ? {} : { primaryKey }),
    // An invalid owner or tenant still counts as declared, so no second issue follows from it.
    ...(typeof spec.owner === 'string' ? { owner: spec.owner } : {}),
    // An invalid tenant still marks the field as the tenant's, so no second issue follows from it.
    ...(typeof spec.tenant === 'string' ? { tenant: spec.tenant } : {}),
  }
  const endpoints = parseEndpoints(spec.endpoints, context, issues)
  const relations = parseRelations(spec.relations, fields, declared, issues)
  const indexes = parseIndexes(spec.indexes, name ?? 'resource', fields, declared, issues)
  const events = parseEvents(spec.events, issues)

  if (issues.issues.length > 0 || name === undefined || version === undefined || primaryKey === undefined) {
    return { file, ...(name === undefined ? {} : { name }), issues: issues.issues, source }
  }
  const definition: ResourceDefinition = {
    name,
    version,
    ...(description === undefined ? {} : { description }),
    fields,
    primaryKey,
    ...(tenant === undefined ? {} : { tenant }),
    ...(owner === undefined ? {} : { owner }),
    softDelete,
    endpoints,
    relations,
    indexes,
    events,
    file,
  }
  return { file, name, definition, issues: [], source }
}

function resourceName(value: unknown, issues: IssueCollector): string | undefined {
  if (value === undefined) {
    issues.add(
      ['resource'],
      'resource is missing',
      'resource: <name>, the table and route name, e.g. resource: todos',
    )
    return undefined
  }
  const name = issues.string(value, ['resource'], 'the table and route name, e.g. resource: todos')
  if (name === undefined) return undefined
  if (!snakeCase.test(name)) {
    const suggestion = name
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .toLowerCase()
    issues.add(
      ['resource'],
      `"${name}" is not lowercase snake_case`,
      `use lowercase letters, digits and _, e.g. ${suggestion}`,
    )
    return undefined
  }
  return name
}

/** The fields that are valid, and whether all of them were (later checks skip what follows from a bad field). */
function parseFields(raw: unknown, issues: IssueCollector): { fields: FieldDefinition[]; complete: boolean } {
  if (raw === undefined) {
    issues.add(
      ['fields'],
      'fields is missing',
      'fields: { id: { type: uuid, primary: true, generated: true }, … }',
    )
    return { fields: [], complete: false }
  }
  const spec = issues.mapping(raw, ['fields'], '{ id: { type: uuid, primary: true, generated: true } }')
  if (!spec) return { fields: [], complete: false }
  const fields: FieldDefinition[] = []
  for (const [name, value] of Object.entries(spec)) {
    const field = parseField(name, value, issues)
    if (field) fields.push(field)
  }
  return { fields, complete: fields.length === Object.keys(spec).length }
}

function findPrimaryKey(
  fields: readonly FieldDefinition[],
  complete: boolean,
  issues: IssueCollector,
): string | undefined {
  const primaries = fields.filter((field) => field.primary)
  if (primaries.length === 0) {
    if (complete) {
      issues.add(
        ['fields'],
        'no primary key',
        'mark exactly one field primary: true, e.g. id: { type: uuid, primary: true, generated: true }',
        'key',
      )
    }
    return undefined
  }
  for (const extra of primaries.slice(1)) {
    issues.add(
      ['fields', extra.name, 'primary'],
      `a second primary key (${primaries[0]!.name} is one)`,
      'mark exactly one field primary; use a unique index for other keys',
    )
  }
  return primaries[0]!.name
}

/** The `tenant` or `owner` field: a required field of a key type. */
function keyField(
  value: unknown,
  key: 'tenant' | 'owner',
  fields: readonly FieldDefinition[],
  declared: readonly string[],
  issues: IssueCollector,
): string | undefined {
  if (value === undefined) return undefined
  const name = issues.string(value, [key], `the name of the ${key} field`)
  if (name === undefined) return undefined
  const field = fields.find((candidate) => candidate.name === name)
  if (!field) {
    // A field that is declared but invalid is reported where it is declared, not again here.
    if (!declared.includes(name))
      issues.add([key], `unknown field "${name}"`, nameHint(name, declared, 'fields'))
    return undefined
  }
  if (!keyTypes.includes(field.type)) {
    issues.add(
      [key],
      `the ${key} field ${name} is ${article(field.type)}`,
      `the ${key} field must be one of: ${keyTypes.join(', ')}`,
    )
    return undefined
  }
  if (!field.required) {
    issues.add(
      [key],
      `the ${key} field ${name} is not required`,
      `add required: true to fields.${name}: a row without a ${key} would escape the ${key} rule`,
    )
    return undefined
  }
  if (field.sensitive) {
    issues.add(
      [key],
      `the ${key} field ${name} is sensitive`,
      `the ${key} rule compares it with the caller's token; remove sensitive`,
    )
    return undefined
  }
  return name
}

function parseEvents(raw: unknown, issues: IssueCollector): readonly ResourceEvent[] {
  if (raw === undefined) return []
  const events: ResourceEvent[] = []
  for (const { value, index } of issues.stringList(raw, ['events'], '[created, updated, deleted]') ?? []) {
    if ((resourceEvents as readonly string[]).includes(value)) events.push(value as ResourceEvent)
    else
      issues.add(
        entryPath(['events'], index),
        `unknown event "${value}"`,
        nameHint(value, resourceEvents, 'events'),
      )
  }
  return events
}
