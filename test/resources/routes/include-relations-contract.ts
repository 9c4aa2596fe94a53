import { Validator } from '@seriousme/openapi-schema-validator'
import type { App } from 'keel/app'
import { database } from 'keel/data'
import { jwtAuth } from 'keel/http'
import { checkResourceFiles, createTableSql, serveResources } from 'keel/resources'
import { afterEach, describe, expect, it } from 'vitest'
import { goodClaims, SECRET, secretBytes, sign } from '../../http/auth/token-fixtures.ts'
import { testApp } from '../../support/test-app.ts'

const files = {
  projects: `
resource: projects
version: 1
tenant: org_id
fields:
  id:     { type: uuid, primary: true, generated: true }
  name:   { type: string, required: true }
  budget: { type: integer, sensitive: true }
  org_id: { type: string, required: true }
endpoints:
  get:    { auth: [member, admin] }
  create: { auth: [admin], input: [name, budget] }
`,
  reviewers: `
resource: reviewers
version: 1
fields:
  id:   { type: uuid, primary: true, generated: true }
  name: { type: string, required: true }
endpoints:
  get:    { auth: [admin] }
  create: { auth: [admin], input: [name] }
`,
  labels: `
resource: labels
version: 1
fields:
  id:   { type: uuid, primary: true, generated: true }
  name: { type: string, required: true }
endpoints:
  create: { auth: [admin], input: [name] }
`,
  tasks: `
resource: tasks
version: 1
tenant: org_id
fields:
  id:          { type: uuid, primary: true, generated: true }
  title:       { type: string, required: true }
  project_id:  { type: uuid, ref: projects.id }
  reviewer_id: { type: uuid, ref: reviewers.id }
  label_id:    { type: uuid, ref: labels.id }
  org_id:      { type: string, required: true }
endpoints:
  list:   { auth: [member, admin], sort: [title] }
  get:    { auth: [member, admin] }
  create: { auth: [member, admin], input: [title, project_id, reviewer_id, label_id] }
relations:
  project:  { resource: projects, type: belongs_to, key: project_id }
  reviewer: { resource: reviewers, type: belongs_to, key: reviewer_id }
  label:    { resource: labels, type: belongs_to, key: label_id }
`,
}

type Json = Record<string, unknown>

/** `?include=` of belongs_to relations, on PGlite (unit) and PostgreSQL (services). */
export function describeIncludedRelations(
  name: string,
  databaseUrl: () => Promise<string | undefined>,
): void {
  const running: App[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop()))
  })

  async function served() {
    const url = await databaseUrl()
    const data = database({ migrations: false })
    const { app } = testApp({ modules: [data], overrides: url ? { database: { url } } : {} })
    const set = checkResourceFiles(
      Object.entries(files).map(([file, text]) => ({ file: `resources/${file}.yaml`, text })),
    )
    expect(set.issues).toEqual([])
    serveResources(app, {
      database: data,
      resources: set.definitions,
      guards: [jwtAuth({ secret: SECRET, required: false })],
    })
    running.push(app)
    const { url: base } = await app.start()
    // Referenced tables first.
    for (const file of ['projects', 'reviewers', 'labels', 'tasks']) {
      await data.db.execute(createTableSql(set.definitions.find((d) => d.name === file)!).up)
    }
    const as = (roles: string[], org = 'org-a') => {
      const token = sign(goodClaims({ sub: 'user-1', roles, org_id: org }), secretBytes(), 'HS256')
      return async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${await token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        const text = await res.text()
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json }
      }
    }
    return { app, data, as, base }
  }

  describe(`included relations on ${name}`, () => {
    it('includes the related row without its sensitive fields, null where there is none', async () => {
      const { as } = await served()
      const admin = as(['admin'])
      const member = as(['member'])
      const project = (await admin('POST', '/v1/projects', { name: 'Roof', budget: 900 })).body
      expect((await member('POST', '/v1/tasks', { title: 'a', project_id: project.id })).status).toBe(201)
      expect((await member('POST', '/v1/tasks', { title: 'b' })).status).toBe(201)

      const page = await member('GET', '/v1/tasks?sort=title&include=project')
      expect(page.status).toBe(200)
      const items = page.body.items as Json[]
      expect(items.map((t) => t.project)).toEqual([{ id: project.id, name: 'Roof', org_id: 'org-a' }, null])
      const plain = await member('GET', '/v1/tasks?sort=title')
      expect(plain.body.items as Json[]).toEqual([
        expect.not.objectContaining({ project: expect.anything() }),
        expect.not.objectContaining({ project: expect.anything() }),
      ])
      expect((plain.body.items as Json[])[0]).not.toHaveProperty('project')

      const one = await member('GET', `/v1/tasks/${items[0]!.id}?include=project`)
      expect(one.status).toBe(200)
      expect(one.body).toMatchObject({ title: 'a', project: { name: 'Roof' } })
      expect(one.body.project).not.toHaveProperty('budget')
    })

    it('keeps the related resource’s tenant rule: another tenant’s row is null, never shown', async () => {
      const { as, data } = await served()
      const otherProject = (await as(['admin'], 'org-b')('POST', '/v1/projects', { name: 'Secret' })).body
      // A row pointing across tenants can only be written behind the API's back.
      await data.db.query(`insert into tasks (title, project_id, org_id) values ('cross', $1, 'org-a')`, [
        otherProject.id,
      ])
      const page = await as(['member'])('GET', '/v1/tasks?include=project')
      expect(page.body.items).toEqual([expect.objectContaining({ title: 'cross', project: null })])
    })

    it('applies the related get endpoint’s roles: 403 for a member, the row for an admin', async () => {
      const { as } = await served()
      const reviewer = (await as(['admin'])('POST', '/v1/reviewers', { name: 'Ada' })).body
      const task = (await as(['member'])('POST', '/v1/tasks', { title: 'r', reviewer_id: reviewer.id })).body
      const refused = await as(['member'])('GET', `/v1/tasks/${task.id}?include=reviewer`)
      expect(refused.status).toBe(403)
      expect(refused.body.detail).toContain('reviewers: needs one of the roles "admin"')
      const allowed = await as(['admin'])('GET', `/v1/tasks/${task.id}?include=project,reviewer`)
      expect(allowed.body).toMatchObject({ project: null, reviewer: { id: reviewer.id, name: 'Ada' } })
    })

    it('answers an include it cannot serve with 422 naming it, and a malformed one with 400', async () => {
      const { as } = await served()
      const member = as(['member'])
      const label = await member('GET', '/v1/tasks?include=label')
      expect(label.status).toBe(422)
      expect(label.body.detail).toBe('tasks: cannot include "label"; includable: project, reviewer')
      const unknown = await member('GET', '/v1/tasks?include=project,owner')
      expect(unknown.status).toBe(422)
      expect(unknown.body.detail).toContain('"owner"')
      expect((await member('GET', '/v1/tasks?include=Project')).status).toBe(400)
      const undeclared = await member('GET', '/v1/tasks/00000000-0000-4000-8000-000000000000?expand=project')
      expect(undeclared.status).toBe(422)
    })

    it('documents include with the includable relations in a valid OpenAPI document', async () => {
      const { base } = await served()
      const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { parameters?: Json[] }>>
      }
      for (const path of ['/v1/tasks', '/v1/tasks/{id}']) {
        const include = document.paths[path]!.get!.parameters!.find((p) => p.name === 'include')
        expect(include).toMatchObject({ in: 'query', required: false })
        expect(JSON.stringify(include)).toContain('project, reviewer')
      }
      const result = await new Validator().validate(document as never)
      expect(result.errors ?? []).toEqual([])
    })
  })
}
