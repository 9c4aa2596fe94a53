import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { findField, parseResource, primaryKeyOf, type ResourceDefinition } from '../../src/resources/index.ts'

const fixtures = join(import.meta.dirname, 'fixtures')

function parsed(name: string): ResourceDefinition {
  const file = `valid/${name}.yaml`
  const result = parseResource(readFileSync(join(fixtures, file), 'utf8'), file)
  if (!result.ok) throw new Error(`expected ${file} to be valid: ${JSON.stringify(result.issues)}`)
  return result.definition
}

describe('parseResource on a valid file', () => {
  const todos = parsed('todos')

  it('reads the top level: name, version, tenant, owner, soft delete, primary key, file', () => {
    expect(todos).toMatchObject({
      name: 'todos',
      version: 1,
      description: 'Things to do, per organization',
      primaryKey: 'id',
      tenant: { field: 'org_id', claim: 'org_id' },
      owner: 'owner_id',
      softDelete: true,
      file: 'valid/todos.yaml',
      events: ['created', 'updated', 'deleted'],
    })
    expect(primaryKeyOf(todos).name).toBe('id')
  })

  it('keeps the fields in file order with every default applied', () => {
    expect(todos.fields.map((field) => field.name)).toEqual([
      'id',
      'title',
      'done',
      'priority',
      'due',
      'email',
      'secret',
      'owner_id',
      'org_id',
      'created_at',
      'updated_at',
    ])
    expect(findField(todos, 'id')).toEqual({
      name: 'id',
      type: 'uuid',
      required: true,
      unique: false,
      sensitive: false,
      primary: true,
      generated: 'insert',
    })
    expect(findField(todos, 'title')).toEqual({
      name: 'title',
      type: 'string',
      required: true,
      unique: false,
      sensitive: false,
      primary: false,
      min: 1,
      max: 200,
    })
    expect(findField(todos, 'priority')).toMatchObject({
      type: 'enum',
      values: ['low', 'normal', 'high'],
      default: 'normal',
      required: false,
    })
    // A string without max gets 255; format and unique carry over.
    expect(findField(todos, 'email')).toMatchObject({
      type: 'string',
      max: 255,
      format: 'email',
      unique: true,
    })
    expect(findField(todos, 'secret')).toMatchObject({ sensitive: true })
    expect(findField(todos, 'owner_id')).toMatchObject({
      required: true,
      ref: { resource: 'users', field: 'id', onDelete: 'restrict' },
    })
    // created_at is set on insert; updated_at, by its name, on every update as well.
    expect(findField(todos, 'created_at')).toMatchObject({ generated: 'insert', required: true })
    expect(findField(todos, 'updated_at')).toMatchObject({ generated: 'update', required: true })
  })

  it('reads every endpoint with its auth rule, options and defaults', () => {
    expect(todos.endpoints.list).toEqual({
      kind: 'list',
      auth: { isPublic: false, roles: ['member', 'admin'], allowsOwner: false },
      filters: ['done', 'priority'],
      search: ['title'],
      sort: ['created_at', 'priority'],
      pagination: { style: 'cursor', defaultLimit: 20, maxLimit: 100 },
      cache: { ttlSeconds: 30 },
    })
    expect(todos.endpoints.get).toEqual({
      kind: 'get',
      auth: { isPublic: false, roles: ['admin'], allowsOwner: true },
      cache: { ttlSeconds: 30 },
    })
    expect(todos.endpoints.create?.input).toEqual(['title', 'done', 'priority', 'due'])
    expect(todos.endpoints.update?.input).toEqual(['title', 'done', 'priority', 'due'])
    expect(todos.endpoints.delete).toEqual({
      kind: 'delete',
      auth: { isPublic: false, roles: ['admin'], allowsOwner: true },
    })
  })

  it('reads relations and indexes, naming indexes as PostgreSQL would', () => {
    expect(todos.relations).toEqual([
      { name: 'owner', resource: 'users', type: 'belongs_to', key: 'owner_id' },
    ])
    expect(todos.indexes).toEqual([
      { name: 'todos_org_id_done_idx', fields: ['org_id', 'done'], unique: false },
    ])
  })

  it('reads every field type with its constraints and typed defaults', () => {
    const users = parsed('users')
    expect(findField(users, 'name')).toMatchObject({ type: 'text', min: 1, max: 100 })
    expect(findField(users, 'age')).toMatchObject({ type: 'integer', min: 0, max: 150 })
    expect(findField(users, 'score')).toMatchObject({ type: 'number', min: 0, max: 1, default: 0.5 })
    expect(findField(users, 'visits')).toMatchObject({ type: 'bigint', default: 0, required: true })
    expect(findField(users, 'profile')).toMatchObject({ type: 'json', default: { theme: 'light' } })
    expect(findField(users, 'handle')).toMatchObject({ pattern: '^[a-z0-9_]+$', max: 30 })
    expect(findField(users, 'born')).toMatchObject({ type: 'date', default: '2000-01-01' })
    expect(users.softDelete).toBe(false)
    expect(users.events).toEqual([])
  })

  it('takes auth as a single word, offset pagination with limits, and input left out as every writable field', () => {
    const users = parsed('users')
    expect(users.endpoints.get?.auth).toEqual({ isPublic: true, roles: [], allowsOwner: false })
    expect(users.endpoints.list).toMatchObject({
      auth: { isPublic: false, roles: ['admin'], allowsOwner: false },
      pagination: { style: 'offset', defaultLimit: 10, maxLimit: 50 },
    })
    expect(users.endpoints.list).not.toHaveProperty('cache')
    expect(users.endpoints.create?.input).toEqual([
      'email',
      'name',
      'role',
      'password',
      'age',
      'score',
      'visits',
      'profile',
      'handle',
      'born',
    ])
    expect(users.endpoints.delete).toBeUndefined()
  })

  it('leaves the tenant field out of a default input and the primary key out of update', () => {
    const result = parseResource(
      `resource: notes
version: 2
tenant: org_id
fields:
  code: { type: string, primary: true, max: 20 }
  org_id: { type: uuid, required: true }
  body: { type: text }
endpoints:
  create: { auth: [member] }
  update: { auth: [member] }
`,
      'notes.yaml',
    )
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.definition.endpoints.create?.input).toEqual(['code', 'body'])
    expect(result.definition.endpoints.update?.input).toEqual(['body'])
  })
})
