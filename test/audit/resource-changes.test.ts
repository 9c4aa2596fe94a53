import type { App } from 'keel/app'
import { audit, auditChanges } from 'keel/audit'
import { database } from 'keel/data'
import { jwtAuth } from 'keel/http'
import { checkResourceFiles, createTableSql, serveResources } from 'keel/resources'
import { afterEach, describe, expect, it } from 'vitest'
import { goodClaims, SECRET, secretBytes, sign } from '../http/auth/token-fixtures.ts'
import { testApp } from '../support/test-app.ts'

const notes = `
resource: notes
version: 1
fields:
  id:    { type: integer, primary: true, generated: true }
  body:  { type: text, required: true }
  token: { type: string, sensitive: true }
endpoints:
  create: { auth: [writer], input: [body, token] }
  update: { auth: [writer], input: [body] }
  delete: { auth: [writer] }
`

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

describe('auditChanges()', () => {
  it('appends each write through resource routes in its transaction, with field names but no values', async () => {
    const data = database({ migrations: false })
    const auditing = audit({ database: data })
    const { app } = testApp({ modules: [data, auditing] })
    const { definitions } = checkResourceFiles([{ file: 'resources/notes.yaml', text: notes }])
    serveResources(app, {
      database: data,
      resources: definitions,
      guards: [jwtAuth({ secret: SECRET })],
      onChange: [auditChanges(auditing)],
    })
    running = app
    const { url } = await app.start()
    await data.db.execute(createTableSql(definitions[0]!).up)
    const token = await sign(goodClaims({ sub: 'ada', roles: ['writer'] }), secretBytes(), 'HS256')
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })

    expect((await call('POST', '/v1/notes', { body: 'secret plan', token: 'tok_123' })).status).toBe(201)
    expect((await call('PATCH', '/v1/notes/1', { body: 'public plan' })).status).toBe(200)
    expect((await call('POST', '/v1/notes', { body: 'x', extra: 1 })).status).toBe(422)
    expect((await call('DELETE', '/v1/notes/1')).status).toBe(204)

    const entries = await auditing.trail.read()
    expect(entries.map((e) => [e.action, e.actor, e.subject, e.data])).toEqual([
      ['notes.created', 'ada', 'notes/1', {}],
      ['notes.updated', 'ada', 'notes/1', { changed: ['body'] }],
      ['notes.deleted', 'ada', 'notes/1', {}],
    ])
    expect(JSON.stringify(entries)).not.toMatch(/secret plan|public plan|tok_123/)
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 3 })
  })
})
