import { join, relative } from 'node:path'
import { isKeelError } from 'keel/errors'
import { describe, expect, it } from 'vitest'
import {
  checkResourceFiles,
  isResourceError,
  loadResources,
  type ResourceIssue,
  readResources,
} from '../../src/resources/index.ts'

const fixtures = relative(process.cwd(), join(import.meta.dirname, 'fixtures'))

const brief = (issue: ResourceIssue) =>
  `${issue.file.slice(fixtures.length + 1)}:${issue.line}:${issue.column} ${issue.path}: ${issue.message} (${issue.hint})`

describe('loadResources', () => {
  it('loads every resource of a valid directory, by name', async () => {
    const resources = await loadResources(join(fixtures, 'valid'))
    expect(resources.map((resource) => resource.name)).toEqual(['todos', 'users'])
    expect(resources[0]!.file).toBe(join(fixtures, 'valid/todos.yaml'))
  })

  it('reports refs and relations that point at unknown resources, unknown or non-unique fields, or other types', async () => {
    const set = await readResources(join(fixtures, 'broken-refs'))
    expect(set.issues.map(brief)).toEqual([
      'broken-refs/projects.yaml:5:48 fields.owner_id.ref: unknown resource "usres" (did you mean "users"?)',
      'broken-refs/projects.yaml:6:32 fields.lead_id.ref: resource users has no field "nme" (did you mean "name"?)',
      'broken-refs/projects.yaml:7:34 fields.contact.ref: users.name is neither the primary key nor unique (reference users.id, or mark name unique: true)',
      'broken-refs/projects.yaml:8:21 fields.count_id.type: count_id is an integer but users.id is a uuid (make count_id a uuid)',
      `broken-refs/projects.yaml:10:50 relations.tasks.key: resource tasks has no field "project" (for has_many the key is the field of tasks holding this resource's id; did you mean "project_id"?)`,
      'broken-refs/projects.yaml:11:52 relations.lead.key: lead_id references users, not tasks (use the field that references tasks)',
    ])
    // tasks is valid, and so in the set; projects is not.
    expect(set.definitions.map((resource) => resource.name)).toEqual(['tasks', 'users'])
    expect(set.files).toHaveLength(3)
  })

  it('refuses two files declaring one resource, naming the first', async () => {
    const set = await readResources(join(fixtures, 'duplicate'))
    expect(set.issues.map(brief)).toEqual([
      `duplicate/b.yaml:2:11 resource: resource things is declared twice (also declared in ${fixtures}/duplicate/a.yaml:1; each resource has one file)`,
    ])
  })

  it('reports an invalid file once, not again through the refs that point at it', async () => {
    const set = await readResources(join(fixtures, 'invalid-target'))
    expect(set.issues.map(brief)).toEqual([
      'invalid-target/users.yaml:5:17 fields.name.type: unknown type "strin" (did you mean "string"?)',
    ])
    expect(set.definitions.map((resource) => resource.name)).toEqual(['todos'])
  })

  it('throws a ResourceError listing every issue of every file', async () => {
    const error = await loadResources(join(fixtures, 'broken-refs')).catch((e: unknown) => e)
    expect(isResourceError(error)).toBe(true)
    expect(isKeelError(error)).toBe(true)
    if (!isResourceError(error)) return
    expect(error.code).toBe('KEEL_RESOURCE_INVALID')
    expect(error.issues).toHaveLength(6)
    expect(error.message.split('\n')[0]).toBe('resources: 6 problems')
    expect(error.message).toContain(
      `\n  - ${fixtures}/broken-refs/projects.yaml:5:48  fields.owner_id.ref  unknown resource "usres" (did you mean "users"?)`,
    )
  })

  it('rejects a directory that does not exist, naming it', async () => {
    const error = await readResources(join(fixtures, 'nowhere')).catch((e: unknown) => e)
    expect(isKeelError(error) && error.code).toBe('KEEL_RESOURCE_INVALID')
    expect((error as Error).message).toBe(
      `resources: cannot read the directory ${fixtures}/nowhere: it does not exist`,
    )
  })

  it('checks files given as text, including a self reference', () => {
    const text = `resource: categories
version: 1
fields:
  id: { type: bigint, primary: true, generated: true }
  parent_id: { type: bigint, ref: categories.id }
`
    const set = checkResourceFiles([{ file: 'categories.yaml', text }])
    expect(set.issues).toEqual([])
    expect(set.definitions[0]?.fields[1]).toMatchObject({ ref: { resource: 'categories', field: 'id' } })
  })
})
