import { Validator } from '@seriousme/openapi-schema-validator'
import type { App } from 'keel/app'
import { database } from 'keel/data'
import { jwtAuth } from 'keel/http'
import {
  checkResourceFiles,
  createTableSql,
  type ResourceChange,
  type ResourceDefinition,
  serveResources,
} from 'keel/resources'
import { afterEach, describe, expect, it } from 'vitest'
import { goodClaims, SECRET, secretBytes, sign } from '../../http/auth/token-fixtures.ts'
import { testApp } from '../../support/test-app.ts'

const todosYaml = `
resource: todos
version: 1
tenant: org_id
owner: owner_id
softDelete: true
fields:
  id:         { type: uuid, primary: true, generated: true }
  title:      { type: string, min: 1, max: 200, required: true }
  done:       { type: boolean, default: false }
  priority:   { type: enum, values: [low, normal, high], default: normal }
  due:        { type: date }
  email:      { type: string, format: email, unique: true }
  meta:       { type: json }
  secret:     { type: string, sensitive: true }
  owner_id:   { type: string, required: true }
  org_id:     { type: string, required: true }
  created_at: { type: timestamp, generated: true }
  updated_at: { type: timestamp, generated: true }
endpoints:
  list:   { auth: [member, admin], filters: [done, priority], search: [title], sort: [created_at, priority, title], pagination: { style: cursor, defaultLimit: 2, maxLimit: 5 } }
  get:    { auth: [owner, admin], cache: { ttl: 30 } }
  create: { auth: [member, admin], input: [title, done, priority, due, email, meta, secret] }
  update: { auth: [owner, admin], input: [title, done, priority, due] }
  delete: { auth: [owner, admin] }
`

const notesYaml = `
resource: notes
version: 2
fields:
  id:    { type: integer, primary: true, generated: true }
  body:  { type: text, required: true }
  views: { type: bigint }
endpoints:
  list:   { auth: [public], sort: [body], pagination: { style: offset, defaultLimit: 2 } }
  create: { auth: [public], input: [body] }
`

function definitions(): ResourceDefinition[] {
  const set = checkResourceFiles([
    { file: 'resources/todos.yaml', text: todosYaml },
    { file: 'resources/notes.yaml', text: notesYaml },
  ])
  expect(set.issues).toEqual([])
  return [...set.definitions]
}

type Json = Record<string, unknown>

/** The resource routes' behaviour, on PGlite (unit) and PostgreSQL (services). */
export function describeResourceRoutes(name: string, databaseUrl: () => Promise<string | undefined>): void {
  const running: App[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop()))
  })

  async function served(onChange: ((change: ResourceChange) => unknown)[] = []) {
    const url = await databaseUrl()
    const data = database({ migrations: false })
    const { app } = testApp({
      modules: [data],
      overrides: url ? { database: { url } } : {},
    })
    const resources = definitions()
    const routes = serveResources(app, {
      database: data,
      resources,
      guards: [jwtAuth({ secret: SECRET, required: false })],
      onChange: onChange.map((hook) => (change) => hook(change)),
    })
    running.push(app)
    const { url: base } = await app.start()
    for (const resource of resources) await data.db.execute(createTableSql(resource).up)
    const as = (claims: Json | undefined) => {
      const token = claims
        ? sign(
            goodClaims({ sub: 'user-1', roles: ['member'], org_id: 'org-a', ...claims }),
            secretBytes(),
            'HS256',
          )
        : undefined
      return async (method: string, path: string, body?: unknown) => {
        const headers: Record<string, string> = {}
        if (token) headers.authorization = `Bearer ${await token}`
        if (body !== undefined) headers['content-type'] = 'application/json'
        const res = await fetch(`${base}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        const text = await res.text()
        return {
          status: res.status,
          headers: res.headers,
          body: (text ? JSON.parse(text) : undefined) as Json,
        }
      }
    }
    return { app, data, routes, as }
  }

  describe(`resource routes on ${name}`, () => {
    it('creates a row from the declared input, taking owner and tenant from the token, never answering sensitive fields', async () => {
      const { as, data } = await served()
      const alice = as({ sub: 'alice' })
      const res = await alice('POST', '/v1/todos', {
        title: 'Milk',
        due: '2026-12-01',
        meta: [1, { a: 'b' }],
        secret: 'hunter2',
      })
      expect(res.status).toBe(201)
      const row = res.body
      expect(row).toMatchObject({
        title: 'Milk',
        done: false,
        priority: 'normal',
        due: '2026-12-01',
        meta: [1, { a: 'b' }],
        owner_id: 'alice',
        org_id: 'org-a',
      })
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(new Date(row.created_at as string).toISOString()).toBe(row.created_at)
      expect(row).not.toHaveProperty('secret')
      expect(res.headers.get('location')).toBe(`/v1/todos/${row.id}`)
      const [stored] = await data.db.query<{ secret: string }>('select secret from todos where id = $1', [
        row.id,
      ])
      expect(stored?.secret).toBe('hunter2')
    })

    it('answers an undeclared field or filter with 422 naming it, and a wrong type with a 400 pointer', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      const extra = await alice('POST', '/v1/todos', { title: 'x', org_id: 'org-b', owner_id: 'mallory' })
      expect(extra.status).toBe(422)
      expect(extra.body).toMatchObject({
        code: 'KEEL_UNPROCESSABLE',
        detail:
          'todos: "org_id", "owner_id" are not declared fields; declared: title, done, priority, due, email, meta, secret',
      })
      const filter = await alice('GET', '/v1/todos?owner_id=alice')
      expect(filter.status).toBe(422)
      expect(filter.body.detail).toContain('"owner_id" is not a declared query parameter')
      const wrong = await alice('POST', '/v1/todos', { title: '', priority: 'urgent' })
      expect(wrong.status).toBe(400)
      expect((wrong.body.errors as Json[]).map((e) => e.pointer).sort()).toEqual([
        '/body/priority',
        '/body/title',
      ])
      expect((await alice('GET', '/v1/todos?limit=6')).status).toBe(400)
      expect((await alice('PATCH', '/v1/todos/00000000-0000-4000-8000-000000000000', {})).status).toBe(400)
    })

    it('pages with a cursor through every row once, in sort order, and refuses a cursor of another sort', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      const titles = ['delta', 'alpha', 'echo', 'charlie', 'bravo']
      for (const title of titles) expect((await alice('POST', '/v1/todos', { title })).status).toBe(201)
      const seen: string[] = []
      let next: string | null = null
      let pages = 0
      do {
        const query: string = next ? `&cursor=${next}` : ''
        const page = await alice('GET', `/v1/todos?sort=-title${query}`)
        expect(page.status).toBe(200)
        seen.push(...(page.body.items as Json[]).map((r) => r.title as string))
        next = page.body.nextCursor as string | null
        pages++
      } while (next && pages < 10)
      expect(seen).toEqual([...titles].sort().reverse())
      expect(pages).toBe(3)
      const first = await alice('GET', '/v1/todos?sort=title')
      const other = await alice('GET', `/v1/todos?sort=-title&cursor=${first.body.nextCursor}`)
      expect(other.status).toBe(400)
      expect(other.body.errors).toEqual([
        { pointer: '/query/cursor', message: 'invalid cursor: it was made for sort "title", not "-title"' },
      ])
      expect((await alice('GET', '/v1/todos?cursor=bm9wZQ')).status).toBe(400)
    })

    it('pages by a timestamp both ways at full precision, and answers a forged cursor with 400', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push((await alice('POST', '/v1/todos', { title: `t${i}` })).body.id as string)
      for (const sort of ['created_at', '-created_at']) {
        const seen: string[] = []
        let next: string | null = null
        for (let page = 0; page < 10; page++) {
          const answer = await alice('GET', `/v1/todos?sort=${sort}&limit=2${next ? `&cursor=${next}` : ''}`)
          seen.push(...(answer.body.items as Json[]).map((r) => r.id as string))
          next = answer.body.nextCursor as string | null
          if (!next) break
        }
        expect(seen, sort).toEqual(sort.startsWith('-') ? [...ids].reverse() : ids)
      }
      const forge = (value: unknown) =>
        Buffer.from(JSON.stringify(['created_at', value, 'not-a-uuid'])).toString('base64url')
      for (const cursor of [forge('yesterday'), forge({ a: 1 }), forge(null)]) {
        const answer = await alice('GET', `/v1/todos?sort=created_at&cursor=${cursor}`)
        expect(answer.status).toBe(400)
        expect(answer.body.errors).toEqual([
          { pointer: '/query/cursor', message: 'invalid cursor: it is not a cursor this API made' },
        ])
      }
    })

    it('filters by declared fields and searches case-insensitively, taking % and _ literally', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      await alice('POST', '/v1/todos', { title: 'Buy MILK', done: true })
      await alice('POST', '/v1/todos', { title: 'milk the cow', priority: 'high' })
      await alice('POST', '/v1/todos', { title: '100% done' })
      await alice('POST', '/v1/todos', { title: '1000 done' })
      const titles = async (query: string) =>
        ((await alice('GET', `/v1/todos?limit=5&sort=title&${query}`)).body.items as Json[]).map(
          (r) => r.title,
        )
      expect(await titles('q=milk')).toEqual(['Buy MILK', 'milk the cow'])
      expect(await titles('done=true')).toEqual(['Buy MILK'])
      expect(await titles('priority=high&q=MILK')).toEqual(['milk the cow'])
      expect(await titles(`q=${encodeURIComponent('0%')}`)).toEqual(['100% done'])
    })

    it('isolates tenants: another tenant cannot read, filter, update or delete a row by any route', async () => {
      const { as, data } = await served()
      const alice = as({ sub: 'alice', roles: ['admin'] })
      const { body: row } = await alice('POST', '/v1/todos', { title: 'tenant A secret plan' })
      const bob = as({ sub: 'bob', roles: ['admin'], org_id: 'org-b' })
      expect((await bob('GET', `/v1/todos/${row.id}`)).status).toBe(404)
      expect((await bob('GET', '/v1/todos?q=secret')).body.items).toEqual([])
      expect((await bob('GET', '/v1/todos')).body.items).toEqual([])
      // Declared filters narrow a tenant's rows, never widen them: alice's row matches each query,
      // and bob's own row shows that it matches for bob too.
      await bob('POST', '/v1/todos', { title: 'tenant B plan' })
      const titles = async (who: typeof alice, query: string) => {
        const { status, body } = await who('GET', `/v1/todos?${query}`)
        expect(status, query).toBe(200)
        return (body.items as Json[]).map((r) => r.title)
      }
      for (const query of ['done=false', 'priority=normal', 'done=false&priority=normal&q=plan&sort=title']) {
        expect(await titles(alice, query), query).toEqual(['tenant A secret plan'])
        expect(await titles(bob, query), query).toEqual(['tenant B plan'])
      }
      expect((await bob('PATCH', `/v1/todos/${row.id}`, { title: 'mine now' })).status).toBe(404)
      expect((await bob('DELETE', `/v1/todos/${row.id}`)).status).toBe(404)
      const noTenant = await as({ sub: 'carol', org_id: undefined })('GET', '/v1/todos')
      expect(noTenant.status).toBe(403)
      expect(noTenant.body.detail).toBe(
        'todos is isolated per tenant: the credentials carry no "org_id" claim',
      )
      const [stored] = await data.db.query<Json>('select title, deleted_at from todos where id = $1', [
        row.id,
      ])
      expect(stored).toEqual({ title: 'tenant A secret plan', deleted_at: null })
    })

    it('lets owners and admins at a row, and answers 404 to other members, 401 without a token, 403 without a role', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      const { body: row } = await alice('POST', '/v1/todos', { title: 'mine' })
      expect((await alice('GET', `/v1/todos/${row.id}`)).status).toBe(200)
      expect((await as({ sub: 'dave' })('GET', `/v1/todos/${row.id}`)).status).toBe(404)
      expect((await as({ sub: 'dave' })('PATCH', `/v1/todos/${row.id}`, { done: true })).status).toBe(404)
      expect((await as({ sub: 'erin', roles: ['admin'] })('GET', `/v1/todos/${row.id}`)).status).toBe(200)
      const anonymous = await as(undefined)('GET', '/v1/todos')
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      const guest = await as({ sub: 'gus', roles: ['guest'] })('GET', '/v1/todos')
      expect(guest.status).toBe(403)
      expect(guest.body.detail).toBe('todos: needs one of the roles "member", "admin"')
    })

    it('updates the given fields and updated_at, serves get from the cache until a write drops it', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      const { body: row } = await alice('POST', '/v1/todos', { title: 'first' })
      const miss = await alice('GET', `/v1/todos/${row.id}`)
      const hit = await alice('GET', `/v1/todos/${row.id}`)
      expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['miss', 'hit'])
      const changed = await alice('PATCH', `/v1/todos/${row.id}`, { title: 'second', done: true })
      expect(changed.status).toBe(200)
      expect(changed.body).toMatchObject({ title: 'second', done: true, created_at: row.created_at })
      expect(Date.parse(changed.body.updated_at as string)).toBeGreaterThan(
        Date.parse(row.updated_at as string) - 1,
      )
      const after = await alice('GET', `/v1/todos/${row.id}`)
      expect(after.headers.get('x-cache')).toBe('miss')
      expect(after.body.title).toBe('second')
    })

    it('soft-deletes: the row disappears from every route but stays in the table with deleted_at', async () => {
      const { as, data } = await served()
      const alice = as({ sub: 'alice' })
      const { body: row } = await alice('POST', '/v1/todos', { title: 'to go' })
      expect((await alice('DELETE', `/v1/todos/${row.id}`)).status).toBe(204)
      expect((await alice('GET', `/v1/todos/${row.id}`)).status).toBe(404)
      expect((await alice('GET', '/v1/todos')).body.items).toEqual([])
      expect((await alice('DELETE', `/v1/todos/${row.id}`)).status).toBe(404)
      const [stored] = await data.db.query<Json>('select deleted_at from todos where id = $1', [row.id])
      expect(stored?.deleted_at).toBeInstanceOf(Date)
    })

    it('answers a duplicate unique value with 409', async () => {
      const { as } = await served()
      const alice = as({ sub: 'alice' })
      expect((await alice('POST', '/v1/todos', { title: 'a', email: 'a@example.com' })).status).toBe(201)
      const dup = await alice('POST', '/v1/todos', { title: 'b', email: 'a@example.com' })
      expect(dup.status).toBe(409)
      expect(dup.body.code).toBe('KEEL_CONFLICT')
    })

    it('runs change hooks in the write’s transaction: a failing hook leaves no row', async () => {
      const changes: ResourceChange[] = []
      let fail = false
      const { as, data } = await served([
        (change) => {
          if (fail) throw new Error('the audit sink is down')
          changes.push(change)
        },
      ])
      const alice = as({ sub: 'alice' })
      const { body: row } = await alice('POST', '/v1/todos', { title: 'hooked' })
      await alice('PATCH', `/v1/todos/${row.id}`, { done: true })
      await alice('DELETE', `/v1/todos/${row.id}`)
      expect(changes.map((c) => [c.type, c.id, c.actor, c.tenant, c.changed])).toEqual([
        ['created', row.id, 'alice', 'org-a', undefined],
        ['updated', row.id, 'alice', 'org-a', ['done']],
        ['deleted', row.id, 'alice', 'org-a', undefined],
      ])
      fail = true
      expect((await alice('POST', '/v1/todos', { title: 'never stored' })).status).toBe(500)
      expect(await data.db.query(`select id from todos where title = 'never stored'`)).toEqual([])
    })

    it('documents each endpoint in a valid OpenAPI document: credentials, problems, 204 on delete', async () => {
      const { as } = await served()
      const { body: document } = await as(undefined)('GET', '/openapi.json')
      const result = await new Validator().validate(structuredClone(document) as never)
      expect(result.errors ?? []).toEqual([])
      const paths = document.paths as Record<string, Record<string, Json>>
      const list = paths['/v1/todos']!.get!
      // Non-public: a token is required (no empty alternative), even though jwtAuth is optional.
      expect(list.security).toEqual([{ bearerAuth: [] }])
      expect(Object.keys(list.responses as Json)).toEqual(
        expect.arrayContaining(['200', '401', '403', '422']),
      )
      const create = paths['/v1/todos']!.post!
      expect(Object.keys(create.responses as Json)).toEqual(
        expect.arrayContaining(['201', '400', '409', '422']),
      )
      const remove = paths['/v1/todos/{id}']!.delete!
      expect((remove.responses as Record<string, Json>)['204']).toEqual({ description: 'Deleted' })
      expect(remove.responses).not.toHaveProperty('200')
      // Public: the token is optional.
      expect(paths['/v2/notes']!.get!.security).toEqual([{ bearerAuth: [] }, {}])
    })

    it('serves a public resource without a token, paging by offset under its version', async () => {
      const { as } = await served()
      const anonymous = as(undefined)
      for (const body of ['c', 'a', 'b'])
        expect((await anonymous('POST', '/v2/notes', { body })).status).toBe(201)
      const first = await anonymous('GET', '/v2/notes?sort=body')
      expect(first.body).toMatchObject({ items: [{ body: 'a' }, { body: 'b' }], nextOffset: 2 })
      const second = await anonymous('GET', '/v2/notes?sort=body&offset=2')
      expect(second.body).toMatchObject({ items: [{ body: 'c' }], nextOffset: null })
    })

    it('answers a bigint past 2^53 as its exact decimal string, safe ones as numbers, null as null', async () => {
      const { as, data } = await served()
      const anonymous = as(undefined)
      for (const body of ['huge', 'small', 'none'])
        expect((await anonymous('POST', '/v2/notes', { body })).status).toBe(201)
      await data.db.execute(`update notes set views = 9007199254740993 where body = 'huge'`)
      await data.db.execute(`update notes set views = -42 where body = 'small'`)
      const page = await anonymous('GET', '/v2/notes?sort=body&limit=5')
      expect(page.status).toBe(200)
      expect(page.body.items).toEqual([
        expect.objectContaining({ body: 'huge', views: '9007199254740993' }),
        expect.objectContaining({ body: 'none', views: null }),
        expect.objectContaining({ body: 'small', views: -42 }),
      ])
    })
  })
}
