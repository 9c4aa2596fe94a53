import type {
  CachePolicy,
  EndpointAuth,
  EndpointKind,
  FieldDefinition,
  Pagination,
  ResourceEndpoints,
} from './definition.ts'
import { describe, entryPath, type IssueCollector, isMapping, nameHint } from './issue-collector.ts'
import type { PathSegment } from './resource-issue.ts'
import {
  comparableTypes,
  defaultMaxPageLimit,
  defaultPageLimit,
  endpointKinds,
  lengthTypes,
  listQueryParameters,
  roleName,
} from './vocabulary.ts'

/** What the endpoints are checked against: the resource's valid fields and its rules. */
export interface EndpointContext {
  /** The fields that are valid. */
  readonly fields: readonly FieldDefinition[]
  /** Every field name the file declares, valid or not: an invalid one is reported once, where it is declared. */
  readonly declared: readonly string[]
  readonly primaryKey?: string
  readonly owner?: string
  readonly tenant?: string
}

/** The options each endpoint kind takes. */
const optionsOf: Record<EndpointKind, readonly string[]> = {
  list: ['auth', 'filters', 'search', 'sort', 'pagination', 'cache'],
  get: ['auth', 'cache'],
  create: ['auth', 'input'],
  update: ['auth', 'input'],
  delete: ['auth'],
}

/** The largest `maxLimit` a list may allow: a page is read into memory and serialized at once. */
const pageLimitCeiling = 1000

/** Checks `endpoints` and returns the endpoints it declares. */
export function parseEndpoints(
  raw: unknown,
  context: EndpointContext,
  issues: IssueCollector,
): ResourceEndpoints {
  if (raw === undefined) return {}
  const spec = issues.mapping(raw, ['endpoints'], '{ list: { auth: [member] } }')
  if (!spec) return {}
  issues.knownKeys(spec, ['endpoints'], endpointKinds)
  const endpoints: Record<string, unknown> = {}
  for (const kind of endpointKinds) {
    if (spec[kind] === undefined) continue
    const path = ['endpoints', kind]
    const options = issues.mapping(spec[kind], path, '{ auth: [member] }')
    if (!options) continue
    issues.knownKeys(options, path, optionsOf[kind], (key) => {
      const owners = endpointKinds.filter((other) => optionsOf[other].includes(key))
      return owners.length > 0 ? `${key} is an option of ${owners.join(', ')}, not of ${kind}` : undefined
    })
    // Every option is checked even when auth is wrong, so one pass reports all issues.
    const auth = parseAuth(options.auth, kind, context, [...path, 'auth'], issues)
    let endpoint: Record<string, unknown>
    switch (kind) {
      case 'list':
        endpoint = {
          filters: fieldList(
            options.filters,
            [...path, 'filters'],
            context,
            issues,
            comparableField('filter'),
          ),
          search: fieldList(options.search, [...path, 'search'], context, issues, searchableField),
          sort: fieldList(options.sort, [...path, 'sort'], context, issues, comparableField('sort')),
          pagination: parsePagination(options.pagination, [...path, 'pagination'], issues),
          ...cache(options.cache, [...path, 'cache'], issues),
        }
        break
      case 'get':
        endpoint = cache(options.cache, [...path, 'cache'], issues)
        break
      case 'create':
      case 'update':
        endpoint = { input: parseInput(kind, options.input, [...path, 'input'], context, issues) }
        break
      case 'delete':
        endpoint = {}
        break
    }
    if (auth) endpoints[kind] = { kind, auth, ...endpoint }
  }
  return endpoints as ResourceEndpoints
}

function parseAuth(
  raw: unknown,
  kind: EndpointKind,
  context: EndpointContext,
  path: PathSegment[],
  issues: IssueCollector,
): EndpointAuth | undefined {
  if (raw === undefined) {
    issues.add(
      path,
      `endpoint ${kind} has no auth`,
      'every endpoint says who may call it: roles, owner, or public',
    )
    return undefined
  }
  const entries = issues.stringList(raw, path, '[member, admin], [owner], or public')
  if (!entries) return undefined
  if (entries.length === 0) {
    issues.add(path, 'auth is empty: nobody could call the endpoint', 'list roles, owner, or public')
    return undefined
  }
  const roles: string[] = []
  let isPublic = false
  let allowsOwner = false
  let ok = true
  for (const { value, index } of entries) {
    const at = entryPath(path, index)
    if (value === 'public') {
      isPublic = true
      if (entries.length > 1) {
        issues.add(
          at,
          'public combines with nothing else',
          'public already lets everybody in; remove the other entries or public',
        )
        ok = false
      }
      if (context.tenant !== undefined) {
        issues.add(
          at,
          `a tenant resource cannot be public: rows are isolated by the ${context.tenant} claim of the caller's token`,
          'use roles or owner',
        )
        ok = false
      }
    } else if (value === 'owner') {
      allowsOwner = true
      if (context.owner === undefined) {
        issues.add(
          at,
          'the owner rule needs an owner field',
          'declare owner: <field> at the top level (the field holding the owner id)',
        )
        ok = false
      }
      if (kind === 'create') {
        issues.add(
          at,
          'owner does not apply to create: there is no row yet to own',
          'use roles; create sets the owner field to the caller when input leaves it out',
        )
        ok = false
      }
    } else if (roleName.test(value)) {
      roles.push(value)
    } else {
      issues.add(
        at,
        `"${value}" is not a valid role name`,
        'a role starts with a letter and holds letters, digits, _ : . -',
      )
      ok = false
    }
  }
  return ok ? { isPublic, roles, allowsOwner } : undefined
}

/** Why a field cannot be used, or `undefined` when it can. */
type FieldRule = (field: FieldDefinition) => { message: string; hint: string } | undefined

const comparableField =
  (use: 'filter' | 'sort'): FieldRule =>
  (field) => {
    if (field.sensitive)
      return {
        message: `cannot ${use} on sensitive field ${field.name}`,
        hint: `a ${use} would reveal the values of a sensitive field`,
      }
    if (!comparableTypes.includes(field.type))
      return {
        message: `cannot ${use} on ${field.type} field ${field.name}`,
        hint: `${use} on scalar fields only`,
      }
    if (use === 'filter' && listQueryParameters.includes(field.name)) {
      return {
        message: `field ${field.name} clashes with the list query parameter ${field.name}`,
        hint: `reserved: ${listQueryParameters.join(', ')}`,
      }
    }
    return undefined
  }

const searchableField: FieldRule = (field) => {
  if (field.sensitive)
    return {
      message: `cannot search sensitive field ${field.name}`,
      hint: 'a search would reveal the values of a sensitive field',
    }
  if (!lengthTypes.includes(field.type))
    return {
      message: `cannot search ${field.type} field ${field.name}`,
      hint: 'search applies to string and text fields; use filters for the others',
    }
  return undefined
}

/** A list of field names, each existing and passing `rule`. */
function fieldList(
  raw: unknown,
  path: PathSegment[],
  context: EndpointContext,
  issues: IssueCollector,
  rule: FieldRule,
): readonly string[] {
  if (raw === undefined) return []
  const entries = issues.stringList(raw, path, '[title, done]') ?? []
  const names: string[] = []
  for (const { value, index } of entries) {
    const field = lookUp(value, entryPath(path, index), context, issues)
    if (!field) continue
    const problem = rule(field)
    if (problem) issues.add(entryPath(path, index), problem.message, problem.hint)
    else names.push(value)
  }
  return names
}

function lookUp(name: string, path: PathSegment[], context: EndpointContext, issues: IssueCollector) {
  const field = context.fields.find((candidate) => candidate.name === name)
  if (!field && !context.declared.includes(name)) {
    issues.add(path, `unknown field "${name}"`, nameHint(name, context.declared, 'fields'))
  }
  return field
}

/**
 * The fields create or update accept. Without `input`, every field a client may write: not
 * generated, not the tenant (set from the token), not the owner (the caller's subject: were it
 * input, a caller could hand a row to someone else), and for update not the primary key.
 */
function parseInput(
  kind: 'create' | 'update',
  raw: unknown,
  path: PathSegment[],
  context: EndpointContext,
  issues: IssueCollector,
): readonly string[] {
  const writable = (field: FieldDefinition) =>
    field.generated === undefined &&
    field.name !== context.tenant &&
    field.name !== context.owner &&
    (kind === 'create' || !field.primary)
  let input: string[]
  if (raw === undefined) {
    input = context.fields.filter(writable).map((field) => field.name)
  } else {
    input = []
    for (const { value, index } of issues.stringList(raw, path, '[title, done]') ?? []) {
      const at = entryPath(path, index)
      const field = lookUp(value, at, context, issues)
      if (!field) continue
      if (field.generated !== undefined)
        issues.add(at, `${value} is generated by the database`, `remove it from ${kind}.input`)
      else if (field.name === context.tenant)
        issues.add(
          at,
          `${value} is the tenant field, set from the caller's token`,
          `remove it from ${kind}.input`,
        )
      else if (field.name === context.owner)
        issues.add(
          at,
          `${value} is the owner field, set to the caller's subject: as input, a caller could give a row to someone else`,
          `remove it from ${kind}.input`,
        )
      else if (kind === 'update' && field.primary)
        issues.add(at, `${value} is the primary key, which never changes`, 'remove it from update.input')
      else input.push(value)
    }
  }
  if (kind === 'create') {
    for (const field of context.fields) {
      const filled =
        field.default !== undefined ||
        field.generated !== undefined ||
        field.name === context.tenant ||
        field.name === context.owner
      if (field.required && !filled && !input.includes(field.name)) {
        issues.add(
          path,
          `required field ${field.name} has no default and is not in create.input: every create would fail`,
          `add ${field.name} to input, give it a default, or make it optional`,
        )
      }
    }
  }
  if (raw !== undefined && Array.isArray(raw) && raw.length === 0) {
    issues.add(
      path,
      `${kind}.input is empty`,
      `list the fields ${kind} accepts, or leave input out to accept every writable field`,
    )
  }
  return input
}

function parsePagination(raw: unknown, path: PathSegment[], issues: IssueCollector): Pagination {
  const pagination: { style: Pagination['style']; defaultLimit: number; maxLimit: number } = {
    style: 'cursor',
    defaultLimit: defaultPageLimit,
    maxLimit: defaultMaxPageLimit,
  }
  if (raw === undefined) return pagination
  const styles = ['cursor', 'offset']
  const style = (value: unknown, at: PathSegment[]) => {
    if (value === 'cursor' || value === 'offset') pagination.style = value
    else
      issues.add(
        at,
        `unknown pagination ${describe(value)}`,
        typeof value === 'string' ? nameHint(value, styles, 'allowed') : 'allowed: cursor, offset',
      )
  }
  if (!isMapping(raw)) {
    style(raw, path)
    return pagination
  }
  issues.knownKeys(raw, path, ['style', 'defaultLimit', 'maxLimit'])
  if (raw.style !== undefined) style(raw.style, [...path, 'style'])
  const limit = (key: 'defaultLimit' | 'maxLimit') => {
    if (raw[key] === undefined) return
    const value = issues.positiveInteger(raw[key], [...path, key], 'a number of rows, at least 1')
    if (value === undefined) return
    if (value > pageLimitCeiling)
      issues.add(
        [...path, key],
        `${key} ${value} is above ${pageLimitCeiling}`,
        `pages hold at most ${pageLimitCeiling} rows`,
      )
    else pagination[key] = value
  }
  limit('defaultLimit')
  limit('maxLimit')
  if (raw.maxLimit === undefined && pagination.defaultLimit > pagination.maxLimit)
    pagination.maxLimit = pagination.defaultLimit
  if (pagination.defaultLimit > pagination.maxLimit) {
    issues.add(
      [...path, 'defaultLimit'],
      `defaultLimit (${pagination.defaultLimit}) is above maxLimit (${pagination.maxLimit})`,
      'defaultLimit must be ≤ maxLimit',
    )
  }
  return pagination
}

function cache(raw: unknown, path: PathSegment[], issues: IssueCollector): { cache?: CachePolicy } {
  if (raw === undefined) return {}
  const spec = issues.mapping(raw, path, '{ ttl: 30 }')
  if (!spec) return {}
  issues.knownKeys(spec, path, ['ttl'])
  if (spec.ttl === undefined) {
    issues.add(
      path,
      'cache needs a ttl',
      'ttl: seconds an answer may be served from the cache, e.g. { ttl: 30 }',
    )
    return {}
  }
  const ttl = issues.positiveInteger(spec.ttl, [...path, 'ttl'], 'whole seconds, at least 1')
  return ttl === undefined ? {} : { cache: { ttlSeconds: ttl } }
}
