import { describe, expect, it } from 'vitest'
import { parseResource, type ResourceIssue } from '../../src/resources/index.ts'

/** Lines 1-5 of most cases; what a case adds starts on line 6. */
const head = `resource: items
version: 1
fields:
  id: { type: uuid, primary: true, generated: true }
  name: { type: string, required: true }
`

/** The `name` field of `head` replaced, on line 5. */
const withName = (spec: string, rest = '') => head.replace('{ type: string, required: true }', spec) + rest

function issuesOf(text: string): readonly ResourceIssue[] {
  const result = parseResource(text, 'resources/items.yaml')
  if (result.ok) throw new Error('expected issues, the file is valid')
  return result.issues
}

/** The one issue of `text`, without the file (always resources/items.yaml). */
function onlyIssue(text: string): Omit<ResourceIssue, 'file'> {
  const issues = issuesOf(text)
  expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1)
  const { file, ...rest } = issues[0]!
  expect(file).toBe('resources/items.yaml')
  return rest
}

describe('resource file rules: the top level', () => {
  it('accepts the head on its own', () => {
    expect(parseResource(head, 'resources/items.yaml').ok).toBe(true)
  })

  it('refuses an unknown key, pointing at the key and suggesting the near one', () => {
    expect(onlyIssue(`${head}sofDelete: true\n`)).toEqual({
      line: 6,
      column: 1,
      path: 'sofDelete',
      message: 'unknown key "sofDelete"',
      hint: 'did you mean "softDelete"?',
    })
  })

  it('names the Keel key for a key other formats use (schema → fields), and the missing fields', () => {
    const issues = issuesOf('resource: items\nversion: 1\nschema:\n  id: { type: uuid, primary: true }\n')
    expect(
      issues.map(({ line, column, path, message, hint }) => ({ line, column, path, message, hint })),
    ).toEqual([
      {
        line: 1,
        column: 1,
        path: 'fields',
        message: 'fields is missing',
        hint: 'fields: { id: { type: uuid, primary: true, generated: true }, … }',
      },
      { line: 3, column: 1, path: 'schema', message: 'unknown key "schema"', hint: 'did you mean "fields"?' },
    ])
  })

  it('refuses a resource name that is not snake_case, suggesting one that is', () => {
    expect(onlyIssue(head.replace('resource: items', 'resource: TodoItems'))).toEqual({
      line: 1,
      column: 11,
      path: 'resource',
      message: '"TodoItems" is not lowercase snake_case',
      hint: 'use lowercase letters, digits and _, e.g. todo_items',
    })
  })

  it('refuses a version that is not a positive integer, and a missing one', () => {
    expect(onlyIssue(head.replace('version: 1', 'version: 0'))).toMatchObject({
      line: 2,
      column: 10,
      path: 'version',
      message: 'expected a positive integer, got 0',
    })
    expect(onlyIssue(head.replace('version: 1\n', ''))).toMatchObject({
      line: 1,
      column: 1,
      path: 'version',
      message: 'version is missing',
      hint: 'version: 1 (routes are served under /v1/…)',
    })
  })

  it('requires exactly one primary key', () => {
    expect(onlyIssue('resource: items\nversion: 1\nfields:\n  name: { type: string }\n')).toEqual({
      line: 3,
      column: 1,
      path: 'fields',
      message: 'no primary key',
      hint: 'mark exactly one field primary: true, e.g. id: { type: uuid, primary: true, generated: true }',
    })
    expect(onlyIssue(withName('{ type: string, primary: true }'))).toEqual({
      line: 5,
      column: 34,
      path: 'fields.name.primary',
      message: 'a second primary key (id is one)',
      hint: 'mark exactly one field primary; use a unique index for other keys',
    })
  })

  it('refuses a tenant that names no field, and one that is not required', () => {
    expect(onlyIssue(`${head}tenant: nme\n`)).toEqual({
      line: 6,
      column: 9,
      path: 'tenant',
      message: 'unknown field "nme"',
      hint: 'did you mean "name"?',
    })
    expect(onlyIssue(withName('{ type: uuid }', 'tenant: name\n'))).toMatchObject({
      path: 'tenant',
      message: 'the tenant field name is not required',
      hint: 'add required: true to fields.name: a row without a tenant would escape the tenant rule',
    })
  })

  it('refuses softDelete with a deleted_at field of its own', () => {
    expect(onlyIssue(`${head}  deleted_at: { type: timestamp }\nsoftDelete: true\n`)).toEqual({
      line: 6,
      column: 3,
      path: 'fields.deleted_at',
      message: 'softDelete adds deleted_at itself',
      hint: 'remove the deleted_at field, or softDelete',
    })
  })

  it('refuses an unknown event', () => {
    expect(onlyIssue(`${head}events: [created, craeted]\n`)).toEqual({
      line: 6,
      column: 19,
      path: 'events[1]',
      message: 'unknown event "craeted"',
      hint: 'did you mean "created"?',
    })
  })

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    expect(onlyIssue(`${head}  name: { type: text }\n`)).toMatchObject({
      line: 6,
      column: 3,
      path: '',
      message: expect.stringMatching(/^invalid YAML: Map keys must be unique/),
      hint: 'each key may appear once in a mapping',
    })
    expect(issuesOf(`${head}endpoints: { list: [\n`)[0]).toMatchObject({
      path: '',
      hint: 'fix the YAML syntax',
    })
    expect(onlyIssue('')).toMatchObject({ line: 1, column: 1, message: 'the file is empty' })
    expect(onlyIssue('- a\n- b\n')).toMatchObject({ path: '', message: 'expected a mapping, got a list' })
  })
})

describe('resource file rules: fields', () => {
  it('refuses an unknown field key, suggesting the near one', () => {
    expect(onlyIssue(withName('{ type: string, requried: true }'))).toEqual({
      line: 5,
      column: 25,
      path: 'fields.name.requried',
      message: 'unknown key "requried"',
      hint: 'did you mean "required"?',
    })
  })

  it('refuses an unknown type, mapping names from other systems to Keel types', () => {
    expect(onlyIssue(withName('{ type: strng }'))).toEqual({
      line: 5,
      column: 17,
      path: 'fields.name.type',
      message: 'unknown type "strng"',
      hint: 'did you mean "string"?',
    })
    expect(onlyIssue(withName('{ type: int }'))).toMatchObject({ hint: 'did you mean "integer"?' })
    expect(onlyIssue(withName('{ type: datetime }'))).toMatchObject({ hint: 'did you mean "timestamp"?' })
    expect(onlyIssue(withName('{ type: blob }'))).toMatchObject({
      hint: 'types: uuid, string, text, integer, bigint, number, boolean, timestamp, date, enum, json',
    })
    expect(onlyIssue(withName('{ required: true }'))).toMatchObject({
      path: 'fields.name.type',
      message: 'a field needs a type',
    })
  })

  it('refuses a field name that is not snake_case', () => {
    expect(onlyIssue(`${head}  dueDate: { type: date }\n`)).toEqual({
      line: 6,
      column: 3,
      path: 'fields.dueDate',
      message: 'field name "dueDate" is not lowercase snake_case',
      hint: 'use lowercase letters, digits and _, starting with a letter (at most 63)',
    })
  })

  it('requires enum values and checks the default against them', () => {
    expect(onlyIssue(withName('{ type: enum, values: [a, b], default: c }'))).toEqual({
      line: 5,
      column: 48,
      path: 'fields.name.default',
      message: 'default "c" is not one of the values',
      hint: 'values: a, b',
    })
    expect(onlyIssue(withName('{ type: enum }'))).toMatchObject({
      path: 'fields.name.values',
      message: 'an enum field needs values',
    })
    expect(onlyIssue(withName('{ type: enum, values: [a, a] }'))).toMatchObject({
      path: 'fields.name.values[1]',
      message: '"a" is listed twice',
    })
  })

  it('refuses max below min, and min/max on a type they do not apply to', () => {
    expect(onlyIssue(withName('{ type: string, min: 5, max: 2 }'))).toEqual({
      line: 5,
      column: 38,
      path: 'fields.name.max',
      message: 'max (2) is less than min (5)',
      hint: 'max must be ≥ min',
    })
    expect(onlyIssue(withName('{ type: boolean, min: 1 }'))).toEqual({
      line: 5,
      column: 26,
      path: 'fields.name.min',
      message: 'min does not apply to a boolean field',
      hint: 'min is for string, text (length) and numeric fields (value)',
    })
    expect(onlyIssue(withName('{ type: string, min: -1 }'))).toMatchObject({
      message: 'min must be a length: an integer ≥ 0, got -1',
    })
    expect(onlyIssue(withName('{ type: integer, max: 3000000000 }'))).toMatchObject({
      message: 'max must be an integer from -2147483648 to 2147483647, got 3000000000',
    })
  })

  it('refuses an invalid pattern, an unknown format and a default that breaks the field', () => {
    expect(onlyIssue(withName("{ type: string, pattern: '[a-' }"))).toMatchObject({
      line: 5,
      column: 34,
      path: 'fields.name.pattern',
      message: expect.stringMatching(/^invalid regular expression: /),
      hint: 'JavaScript regular expression syntax',
    })
    expect(onlyIssue(withName('{ type: string, format: emial }'))).toEqual({
      line: 5,
      column: 33,
      path: 'fields.name.format',
      message: 'unknown format "emial"',
      hint: 'did you mean "email"?',
    })
    expect(onlyIssue(withName('{ type: string, max: 3, default: abcd }'))).toMatchObject({
      path: 'fields.name.default',
      message: 'default is longer than max (3)',
    })
    expect(onlyIssue(withName('{ type: integer, default: "7" }'))).toMatchObject({
      message: 'default must be an integer, got "7"',
    })
    expect(onlyIssue(withName('{ type: timestamp, default: now }'))).toMatchObject({
      message: 'default must be an ISO 8601 date-time with a zone, got "now"',
      hint: 'for "now" use generated: true',
    })
  })

  it('refuses generated on a type the database cannot fill, and generated with a default', () => {
    expect(onlyIssue(withName('{ type: string, generated: true }'))).toEqual({
      line: 5,
      column: 36,
      path: 'fields.name.generated',
      message: 'a string field cannot be generated',
      hint: 'generated applies to: uuid, timestamp, date, integer, bigint',
    })
    expect(
      onlyIssue(withName("{ type: uuid, generated: true, default: '00000000-0000-0000-0000-000000000000' }")),
    ).toMatchObject({
      path: 'fields.name.default',
      message: 'a generated field cannot have a default',
    })
    expect(onlyIssue(withName('{ type: date, generated: update }'))).toMatchObject({
      message: 'generated: update applies to timestamps, not to a date field',
    })
  })

  it('refuses a malformed ref and set_null on a required field', () => {
    expect(onlyIssue(withName('{ type: uuid, ref: users }'))).toEqual({
      line: 5,
      column: 28,
      path: 'fields.name.ref',
      message: 'expected <resource>.<field>, got "users"',
      hint: 'for example ref: users.id',
    })
    expect(
      onlyIssue(withName('{ type: uuid, required: true, ref: users.id, onDelete: set_null }')),
    ).toMatchObject({
      path: 'fields.name.onDelete',
      hint: 'set_null needs a field that may be null; use restrict or cascade',
    })
    expect(onlyIssue(withName('{ type: uuid, onDelete: cascade }'))).toMatchObject({
      path: 'fields.name.onDelete',
      message: 'onDelete needs a ref',
    })
  })

  it('refuses a sensitive primary key and a primary key of a type that cannot be one', () => {
    expect(onlyIssue(head.replace('generated: true }', 'generated: true, sensitive: true }'))).toMatchObject({
      path: 'fields.id.sensitive',
      message: 'the primary key cannot be sensitive',
    })
    expect(
      onlyIssue(
        head.replace('{ type: uuid, primary: true, generated: true }', '{ type: boolean, primary: true }'),
      ),
    ).toMatchObject({
      path: 'fields.id.primary',
      message: 'a boolean field cannot be the primary key',
      hint: 'use one of: uuid, string, integer, bigint',
    })
  })
})

describe('resource file rules: endpoints', () => {
  const endpoints = (lines: string) => `${head}endpoints:\n${lines}`

  it('refuses an unknown endpoint, suggesting the near one', () => {
    expect(onlyIssue(endpoints('  lst: { auth: [member] }\n'))).toEqual({
      line: 7,
      column: 3,
      path: 'endpoints.lst',
      message: 'unknown key "lst"',
      hint: 'did you mean "list"?',
    })
  })

  it('refuses an option of another endpoint kind, naming where it belongs', () => {
    expect(onlyIssue(endpoints('  get: { auth: [member], filters: [name] }\n'))).toEqual({
      line: 7,
      column: 26,
      path: 'endpoints.get.filters',
      message: 'unknown key "filters"',
      hint: 'filters is an option of list, not of get',
    })
  })

  it('requires auth on every endpoint and refuses an empty one', () => {
    expect(onlyIssue(endpoints('  delete: {}\n'))).toEqual({
      line: 7,
      column: 3,
      path: 'endpoints.delete.auth',
      message: 'endpoint delete has no auth',
      hint: 'every endpoint says who may call it: roles, owner, or public',
    })
    expect(onlyIssue(endpoints('  delete: { auth: [] }\n'))).toMatchObject({
      path: 'endpoints.delete.auth',
      message: 'auth is empty: nobody could call the endpoint',
    })
  })

  it('refuses public with roles, and on a tenant resource', () => {
    expect(onlyIssue(endpoints('  get: { auth: [public, admin] }\n'))).toMatchObject({
      line: 7,
      column: 17,
      path: 'endpoints.get.auth[0]',
      message: 'public combines with nothing else',
    })
    const tenant = withName(
      '{ type: uuid, required: true }',
      'tenant: name\nendpoints:\n  get: { auth: public }\n',
    )
    expect(onlyIssue(tenant)).toEqual({
      line: 8,
      column: 16,
      path: 'endpoints.get.auth',
      message:
        "a tenant resource cannot be public: rows are isolated by the name claim of the caller's token",
      hint: 'use roles or owner',
    })
  })

  it('refuses the owner rule without an owner field, and on create', () => {
    expect(onlyIssue(endpoints('  get: { auth: [owner] }\n'))).toEqual({
      line: 7,
      column: 17,
      path: 'endpoints.get.auth[0]',
      message: 'the owner rule needs an owner field',
      hint: 'declare owner: <field> at the top level (the field holding the owner id)',
    })
    const owned = withName(
      '{ type: uuid, required: true }',
      'owner: name\nendpoints:\n  create: { auth: [owner] }\n',
    )
    expect(onlyIssue(owned)).toMatchObject({
      line: 8,
      path: 'endpoints.create.auth[0]',
      message: 'owner does not apply to create: there is no row yet to own',
    })
  })

  it('refuses filters on unknown, sensitive, json and reserved-name fields', () => {
    expect(onlyIssue(endpoints('  list: { auth: [member], filters: [name, nme] }\n'))).toEqual({
      line: 7,
      column: 43,
      path: 'endpoints.list.filters[1]',
      message: 'unknown field "nme"',
      hint: 'did you mean "name"?',
    })
    const sensitive = withName(
      '{ type: string, sensitive: true }',
      'endpoints:\n  list: { auth: [member], filters: [name] }\n',
    )
    expect(onlyIssue(sensitive)).toMatchObject({
      path: 'endpoints.list.filters[0]',
      message: 'cannot filter on sensitive field name',
      hint: 'a filter would reveal the values of a sensitive field',
    })
    const json = withName('{ type: json }', 'endpoints:\n  list: { auth: [member], sort: [name] }\n')
    expect(onlyIssue(json)).toMatchObject({
      path: 'endpoints.list.sort[0]',
      message: 'cannot sort on json field name',
    })
    const reserved = `${head}  limit: { type: integer }\nendpoints:\n  list: { auth: [member], filters: [limit] }\n`
    expect(onlyIssue(reserved)).toMatchObject({
      path: 'endpoints.list.filters[0]',
      message: 'field limit clashes with the list query parameter limit',
      hint: 'reserved: q, sort, limit, cursor, offset',
    })
  })

  it('refuses search on a field that is not a string', () => {
    expect(onlyIssue(endpoints('  list: { auth: [member], search: [id] }\n'))).toEqual({
      line: 7,
      column: 36,
      path: 'endpoints.list.search[0]',
      message: 'cannot search uuid field id',
      hint: 'search applies to string and text fields; use filters for the others',
    })
  })

  it('refuses sort on an undeclared field', () => {
    expect(onlyIssue(endpoints('  list: { auth: [member], sort: [created_at] }\n'))).toMatchObject({
      path: 'endpoints.list.sort[0]',
      message: 'unknown field "created_at"',
      hint: 'fields: id, name',
    })
  })

  it('refuses generated, primary-on-update and tenant fields in input', () => {
    expect(onlyIssue(endpoints('  create: { auth: [member], input: [id, name] }\n'))).toEqual({
      line: 7,
      column: 37,
      path: 'endpoints.create.input[0]',
      message: 'id is generated by the database',
      hint: 'remove it from create.input',
    })
    const natural = head.replace(
      '{ type: uuid, primary: true, generated: true }',
      '{ type: string, primary: true }',
    )
    expect(
      onlyIssue(`${natural}endpoints:\n  update: { auth: [member], input: [id, name] }\n`),
    ).toMatchObject({
      path: 'endpoints.update.input[0]',
      message: 'id is the primary key, which never changes',
    })
    const tenant = withName(
      '{ type: uuid, required: true }',
      'tenant: name\nendpoints:\n  update: { auth: [member], input: [name] }\n',
    )
    expect(onlyIssue(tenant)).toMatchObject({
      path: 'endpoints.update.input[0]',
      message: "name is the tenant field, set from the caller's token",
    })
    const owner = withName(
      '{ type: string, required: true }',
      'owner: name\nendpoints:\n  create: { auth: [member], input: [name] }\n',
    )
    expect(onlyIssue(owner)).toMatchObject({
      path: 'endpoints.create.input[0]',
      message:
        "name is the owner field, set to the caller's subject: as input, a caller could give a row to someone else",
    })
  })

  it('refuses a create input that leaves out a required field without a default', () => {
    expect(
      onlyIssue(`${head}  note: { type: text }\nendpoints:\n  create: { auth: [member], input: [note] }\n`),
    ).toEqual({
      line: 8,
      column: 36,
      path: 'endpoints.create.input',
      message: 'required field name has no default and is not in create.input: every create would fail',
      hint: 'add name to input, give it a default, or make it optional',
    })
  })

  it('refuses unknown pagination styles and limits out of range', () => {
    expect(onlyIssue(endpoints('  list: { auth: [member], pagination: cursr }\n'))).toEqual({
      line: 7,
      column: 39,
      path: 'endpoints.list.pagination',
      message: 'unknown pagination "cursr"',
      hint: 'did you mean "cursor"?',
    })
    expect(
      onlyIssue(
        endpoints(
          '  list: { auth: [member], pagination: { style: offset, defaultLimit: 50, maxLimit: 10 } }\n',
        ),
      ),
    ).toMatchObject({
      path: 'endpoints.list.pagination.defaultLimit',
      message: 'defaultLimit (50) is above maxLimit (10)',
    })
    expect(
      onlyIssue(endpoints('  list: { auth: [member], pagination: { maxLimit: 5000 } }\n')),
    ).toMatchObject({
      path: 'endpoints.list.pagination.maxLimit',
      message: 'maxLimit 5000 is above 1000',
    })
  })

  it('refuses a cache ttl that is not a positive integer, and a cache without one', () => {
    expect(onlyIssue(endpoints('  get: { auth: [member], cache: { ttl: 0 } }\n'))).toEqual({
      line: 7,
      column: 40,
      path: 'endpoints.get.cache.ttl',
      message: 'expected a positive integer, got 0',
      hint: 'whole seconds, at least 1',
    })
    expect(onlyIssue(endpoints('  get: { auth: [member], cache: { ttl: 2.5 } }\n'))).toMatchObject({
      message: 'expected a positive integer, got 2.5',
    })
    expect(onlyIssue(endpoints('  get: { auth: [member], cache: {} }\n'))).toMatchObject({
      path: 'endpoints.get.cache',
      message: 'cache needs a ttl',
    })
  })
})

describe('resource file rules: relations and indexes', () => {
  it('refuses an unknown relation type and a belongs_to key that is no field', () => {
    expect(onlyIssue(`${head}relations:\n  owner: { resource: users, type: belongs, key: id }\n`)).toEqual({
      line: 7,
      column: 35,
      path: 'relations.owner.type',
      message: 'unknown relation type "belongs"',
      hint: 'did you mean "belongs_to"?',
    })
    expect(
      onlyIssue(`${head}relations:\n  owner: { resource: users, type: belongs_to, key: owner_id }\n`),
    ).toEqual({
      line: 7,
      column: 52,
      path: 'relations.owner.key',
      message: 'unknown field "owner_id"',
      hint: 'fields: id, name',
    })
    expect(
      onlyIssue(`${head}relations:\n  name: { resource: users, type: has_one, key: item_id }\n`),
    ).toMatchObject({
      path: 'relations.name',
      message: 'relation name has the name of a field',
    })
  })

  it('refuses an index on an unknown field and two indexes of one name', () => {
    expect(onlyIssue(`${head}indexes:\n  - { fields: [name, nmae] }\n`)).toEqual({
      line: 7,
      column: 22,
      path: 'indexes[0].fields[1]',
      message: 'unknown field "nmae"',
      hint: 'did you mean "name"?',
    })
    expect(
      onlyIssue(`${head}indexes:\n  - { fields: [name] }\n  - { fields: [name], unique: true }\n`),
    ).toMatchObject({
      line: 8,
      path: 'indexes[1]',
      message: 'index items_name_idx is declared twice (also indexes[0])',
    })
  })
})

describe('resource file rules: reporting', () => {
  it('reports every issue of a file at once, in line order', () => {
    const text = `resource: items
version: one
fields:
  id: { type: uuid, primary: true, generated: true }
  name: { type: strng, required: true }
  done: { type: boolean, defualt: false }
owner: owner_id
endpoints:
  list: { auth: [member], filters: [name, done, colour], pagination: page }
  get: { auth: [owner] }
events: [created, removed]
`
    const issues = issuesOf(text)
    expect(issues.map((issue) => `${issue.line}:${issue.column} ${issue.path}`)).toEqual([
      '2:10 version',
      '5:17 fields.name.type',
      '6:26 fields.done.defualt',
      '7:8 owner',
      '9:49 endpoints.list.filters[2]',
      '9:70 endpoints.list.pagination',
      '11:19 events[1]',
    ])
    // An invalid field (or owner) is reported once, where it is declared: not again where it is used.
    expect(issues.filter((issue) => issue.message.includes('"name"'))).toEqual([])
    expect(issues.every((issue) => issue.hint.length > 0)).toBe(true)
  })
})
