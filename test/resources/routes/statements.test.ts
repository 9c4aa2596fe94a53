import { describe, expect, it } from 'vitest'
import { parseResource, type ResourceDefinition } from '../../../src/resources/index.ts'
import { ResourceStatements } from '../../../src/resources/routes/statements.ts'

function resource(text: string): ResourceDefinition {
  const result = parseResource(text, 'resources/test.yaml')
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.definition
}

const notes = resource(`resource: notes
version: 1
tenant: org_id
owner: author_id
softDelete: true
fields:
  id: { type: integer, primary: true, generated: true }
  org_id: { type: string, required: true }
  author_id: { type: string, required: true }
  title: { type: string, max: 100, required: true }
  secret: { type: string, sensitive: true }
endpoints:
  list: { auth: [member, owner] }
  get: { auth: [member, owner] }
`)

const columns = '"id", "org_id", "author_id", "title"'
/** Every statement opens with a comment naming it: the slow-query log and pg_stat_activity show it. */
const get = '/* name: notes.get */ '

describe('ResourceStatements.get', () => {
  const statements = new ResourceStatements(notes)

  it('numbers the scope after the primary key, tenant before owner, and hides soft-deleted rows', () => {
    expect(statements.get(7, {})).toEqual({
      sql: `${get}select ${columns} from "notes" where "id" = $1 and deleted_at is null`,
      params: [7],
    })
    expect(statements.get(7, { tenant: { field: 'org_id', value: 'acme' } })).toEqual({
      sql: `${get}select ${columns} from "notes" where "id" = $1 and "org_id" = $2 and deleted_at is null`,
      params: [7, 'acme'],
    })
    expect(statements.get(7, { owner: { field: 'author_id', value: 'u1' }, actor: 'u1' })).toEqual({
      sql: `${get}select ${columns} from "notes" where "id" = $1 and "author_id" = $2 and deleted_at is null`,
      params: [7, 'u1'],
    })
    expect(
      statements.get(7, {
        tenant: { field: 'org_id', value: 'acme' },
        owner: { field: 'author_id', value: 'u1' },
      }),
    ).toEqual({
      sql: `${get}select ${columns} from "notes" where "id" = $1 and "org_id" = $2 and "author_id" = $3 and deleted_at is null`,
      params: [7, 'acme', 'u1'],
    })
  })

  it('builds the text from the scope it is given when the scope names other fields', () => {
    expect(statements.get(7, { tenant: { field: 'title', value: 'x' } })).toEqual({
      sql: `${get}select ${columns} from "notes" where "id" = $1 and "title" = $2 and deleted_at is null`,
      params: [7, 'x'],
    })
  })

  it('gives the same text for every request of one scope shape', () => {
    const a = statements.get(1, { tenant: { field: 'org_id', value: 'a' } })
    const b = statements.get(2, { tenant: { field: 'org_id', value: 'b' } })
    expect(a.sql).toBe(b.sql)
    expect([a.params, b.params]).toEqual([
      [1, 'a'],
      [2, 'b'],
    ])
  })
})

describe('ResourceStatements.list', () => {
  const statements = new ResourceStatements(notes)
  const list = notes.endpoints.list!

  it('puts the scope, then filters, then the cursor, then the limit in its parameters', () => {
    const statement = statements.list(
      list,
      { filters: { title: 'hello' }, limit: 20, cursor: { sort: 'id', value: 5, key: 5 } },
      { tenant: { field: 'org_id', value: 'acme' } },
    )
    expect(statement).toEqual({
      sql: `/* name: notes.list */ select ${columns} from "notes" where "org_id" = $1 and deleted_at is null and "title" = $2 and "id" > $3 order by "id" asc limit $4`,
      params: ['acme', 'hello', 5, 21],
    })
  })
})
