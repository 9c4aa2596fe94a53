import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TObject } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { describe, expect, it } from 'vitest'
import { parseResource, type ResourceDefinition, resourceSchemas } from '../../src/resources/index.ts'

function fixture(name: string): ResourceDefinition {
  const file = join(import.meta.dirname, 'fixtures/valid', `${name}.yaml`)
  const result = parseResource(readFileSync(file, 'utf8'), file)
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.definition
}

const todos = resourceSchemas(fixture('todos'))
const users = resourceSchemas(fixture('users'))
const accepts = (schema: TObject | undefined, value: unknown) => TypeCompiler.Compile(schema!).Check(value)

const uuid = '0b7e3c5e-8a47-4a39-9d39-6f8f4c0f6c11'
const row = {
  id: uuid,
  title: 'Write docs',
  done: false,
  priority: 'normal',
  due: null,
  email: null,
  owner_id: uuid,
  org_id: uuid,
  created_at: '2025-01-02T03:04:05.000Z',
  updated_at: '2025-01-02T03:04:05Z',
}

describe('resourceSchemas: row', () => {
  it('accepts a row as a response carries it, and leaves sensitive fields out', () => {
    expect(accepts(todos.row, row)).toBe(true)
    expect(Object.keys(todos.row.properties)).not.toContain('secret')
    expect(accepts(todos.row, { ...row, secret: 'x' })).toBe(false)
    expect(todos.row.additionalProperties).toBe(false)
  })

  it('refuses null in a required field, a value outside an enum, and a malformed timestamp', () => {
    expect(accepts(todos.row, { ...row, title: null })).toBe(false)
    expect(accepts(todos.row, { ...row, priority: 'urgent' })).toBe(false)
    expect(accepts(todos.row, { ...row, created_at: 'yesterday' })).toBe(false)
    expect(accepts(todos.row, { ...row, due: '2025-02-30x' })).toBe(false)
  })

  it('addresses one row by its primary key', () => {
    expect(accepts(todos.params, { id: uuid })).toBe(true)
    expect(accepts(todos.params, { id: 'not-a-uuid' })).toBe(false)
  })
})

describe('resourceSchemas: create and update', () => {
  it('requires what create needs: title; owner_id is the caller, never input', () => {
    expect(accepts(todos.create, { title: 'Write docs' })).toBe(true)
    expect(todos.create?.required).toEqual(['title'])
    expect(
      accepts(todos.create, {
        title: 'Write docs',
        done: true,
        priority: 'high',
        due: '2025-03-01',
      }),
    ).toBe(true)
    expect(accepts(todos.create, { title: 'Write docs', owner_id: uuid })).toBe(false)
    expect(accepts(todos.create, {})).toBe(false)
  })

  it('refuses fields outside create.input: generated, tenant, not listed', () => {
    expect(accepts(todos.create, { title: 'a', id: uuid })).toBe(false)
    expect(accepts(todos.create, { title: 'a', org_id: uuid })).toBe(false)
    expect(accepts(todos.create, { title: 'a', email: 'a@b.co' })).toBe(false)
  })

  it('checks length, enum, format, pattern and range', () => {
    expect(accepts(todos.create, { title: '' })).toBe(false)
    expect(accepts(todos.create, { title: 'x'.repeat(201) })).toBe(false)
    expect(accepts(todos.create, { title: 'a', priority: 'urgent' })).toBe(false)
    const user = { email: 'ann@example.com', name: 'Ann' }
    expect(accepts(users.create, user)).toBe(true)
    expect(accepts(users.create, { ...user, email: 'not-an-email' })).toBe(false)
    expect(accepts(users.create, { ...user, handle: 'Ann!' })).toBe(false)
    expect(accepts(users.create, { ...user, handle: 'ann_1' })).toBe(true)
    expect(accepts(users.create, { ...user, age: 151 })).toBe(false)
    expect(accepts(users.create, { ...user, age: 1.5 })).toBe(false)
    expect(accepts(users.create, { ...user, score: 0.25, profile: { any: ['json'] } })).toBe(true)
    // A sensitive field is still input: a password is written, never read.
    expect(accepts(users.create, { ...user, password: 'correct horse battery' })).toBe(true)
    expect(accepts(users.create, { ...user, password: 'short' })).toBe(false)
  })

  it('takes any non-empty subset of update.input, null only where the column allows it', () => {
    expect(accepts(todos.update, { done: true })).toBe(true)
    expect(accepts(todos.update, { due: null })).toBe(true)
    expect(accepts(todos.update, { title: null })).toBe(false)
    expect(accepts(todos.update, {})).toBe(false)
    expect(accepts(todos.update, { owner_id: uuid })).toBe(false)
  })
})

describe('resourceSchemas: list query', () => {
  it('takes the declared filters, q, sort in both directions, limit and cursor', () => {
    const query = { done: true, priority: 'high', q: 'docs', sort: '-created_at', limit: 50, cursor: 'abc' }
    expect(accepts(todos.listQuery, query)).toBe(true)
    expect(accepts(todos.listQuery, { sort: 'priority' })).toBe(true)
  })

  it('refuses undeclared filters, sorts, offset with cursor pagination, and limits above maxLimit', () => {
    expect(accepts(todos.listQuery, { title: 'x' })).toBe(false)
    expect(accepts(todos.listQuery, { sort: 'title' })).toBe(false)
    expect(accepts(todos.listQuery, { offset: 10 })).toBe(false)
    expect(accepts(todos.listQuery, { limit: 101 })).toBe(false)
    expect(accepts(todos.listQuery, { limit: 0 })).toBe(false)
  })

  it('coerces query strings the way keel/http does, and defaults the limit', () => {
    const converted = Value.Convert(todos.listQuery!, { done: 'true', limit: '5' })
    expect(converted).toEqual({ done: true, limit: 5 })
    expect(accepts(todos.listQuery, converted)).toBe(true)
    expect(Value.Default(todos.listQuery!, {})).toEqual({ limit: 20 })
  })

  it('uses offset paging with its own limits, and has no q without search fields', () => {
    expect(accepts(users.listQuery, { offset: 20, limit: 50, role: 'admin', age: 30 })).toBe(true)
    expect(accepts(users.listQuery, { limit: 51 })).toBe(false)
    expect(accepts(users.listQuery, { cursor: 'abc' })).toBe(false)
    expect(accepts(users.listQuery, { q: 'ann' })).toBe(false)
  })

  it('has no schema for an endpoint the resource does not declare', () => {
    expect(users.update).toBeDefined()
    const bare = resourceSchemas({ ...fixture('users'), endpoints: {} })
    expect(bare.create).toBeUndefined()
    expect(bare.listQuery).toBeUndefined()
  })
})
