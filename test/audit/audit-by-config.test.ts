import { channel } from 'node:diagnostics_channel'
import type { App } from 'keel/app'
import { type AuditModule, audit, auditChanges } from 'keel/audit'
import { database } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { authorize, jwtAuth } from 'keel/http'
import {
  changeHookFor,
  checkResourceFiles,
  createTableSql,
  type ResourceChangeHook,
  serveResources,
} from 'keel/resources'
import { afterEach, describe, expect, it } from 'vitest'
import { goodClaims, SECRET, seconds, secretBytes, sign } from '../http/auth/token-fixtures.ts'
import { sampleValue, scrape } from '../http/scrape.ts'
import type { LogCapture } from '../support/log-capture.ts'
import { testApp } from '../support/test-app.ts'

// Auditing by config: `audit.auth` records auth guard decisions from the `keel:auth` diagnostics
// channel; `audit.resources` adds the change hook to served resources without code. PGlite.

const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

const hs256 = (claims = goodClaims()) => sign(claims, secretBytes(), 'HS256')
const forged = (claims = goodClaims()) =>
  sign(claims, secretBytes('another-secret-that-is-48-bytes-long-0000000000'), 'HS256')

/** An audited app with JWT routes: /me (required token), /admin (role admin), /open (optional token). */
async function authApp(auditYaml: string) {
  const data = database({ migrations: false })
  const auditing = audit({ database: data })
  const { app, logs } = testApp({ modules: [data, auditing], yaml: `audit:\n${auditYaml}` })
  running.push(app)
  const jwt = jwtAuth({ secret: SECRET })
  app.get('/me', { guards: [jwt] }, (ctx) => ({ id: ctx.principal?.id }))
  app.get('/admin/users/:id', { guards: [jwt, authorize({ roles: ['admin'] })] }, () => ({ ok: true }))
  app.get('/open', { guards: [jwtAuth({ secret: SECRET, required: false })] }, () => ({ ok: true }))
  const { url } = await app.start()
  const get = (path: string, token?: string, requestId?: string) =>
    fetch(`${url}${path}`, {
      headers: {
        connection: 'close',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
      },
    })
  /** Every entry, once the appends the requests made are committed (they do not delay responses). */
  const entries = async () => {
    await auditing.trail.flush()
    return auditing.trail.read({ limit: 1000 })
  }
  return { app, url, logs, data, auditing, get, entries }
}

describe('audit.auth', () => {
  it('appends refused and accepted decisions with route, guard, outcome, request id and ip, never the token', async () => {
    const { get, entries, auditing } = await authApp('  auth: all\n')
    const good = await hs256(goodClaims({ sub: 'ada' }))
    const expired = await hs256(goodClaims({ sub: 'bob', iat: seconds.ago(3600), exp: seconds.ago(600) }))
    const bad = await forged(goodClaims({ sub: 'mallory' }))
    const member = await hs256(goodClaims({ sub: 'carol', roles: ['member'] }))

    expect((await get('/me', good, 'req-accepted')).status).toBe(200)
    expect((await get('/me', undefined, 'req-missing')).status).toBe(401)
    expect((await get('/me', expired, 'req-expired')).status).toBe(401)
    expect((await get('/me', bad, 'req-forged')).status).toBe(401)
    expect((await get('/admin/users/7', member, 'req-forbidden')).status).toBe(403)
    // No token where the guard allows anonymous: let through, so no refusal and no entry.
    expect((await get('/open', undefined, 'req-anonymous')).status).toBe(200)

    const all = await entries()
    expect(all.map((e) => [e.action, e.actor, e.subject, e.data])).toEqual([
      ['auth.accepted', 'ada', 'GET /me', { guard: 'auth.jwt', requestId: 'req-accepted', ip: '127.0.0.1' }],
      [
        'auth.refused',
        null,
        'GET /me',
        { guard: 'auth.jwt', outcome: 'missing', requestId: 'req-missing', ip: '127.0.0.1' },
      ],
      [
        'auth.refused',
        null,
        'GET /me',
        { guard: 'auth.jwt', outcome: 'expired', requestId: 'req-expired', ip: '127.0.0.1' },
      ],
      [
        'auth.refused',
        null,
        'GET /me',
        { guard: 'auth.jwt', outcome: 'bad_signature', requestId: 'req-forged', ip: '127.0.0.1' },
      ],
      // The JWT is verified (accepted), then authorize refuses its principal: that principal is the actor.
      [
        'auth.accepted',
        'carol',
        'GET /admin/users/:id',
        { guard: 'auth.jwt', requestId: 'req-forbidden', ip: '127.0.0.1' },
      ],
      [
        'auth.refused',
        'carol',
        'GET /admin/users/:id',
        { guard: 'auth.authorize', outcome: 'forbidden', requestId: 'req-forbidden', ip: '127.0.0.1' },
      ],
    ])
    const stored = JSON.stringify(all)
    for (const token of [good, expired, bad, member]) {
      expect(stored.includes(token), 'a token in the trail').toBe(false)
      // Not even the signature part.
      expect(stored.includes(token.split('.')[2]!), 'a token signature in the trail').toBe(false)
    }
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 6 })
  })

  it('with refused, appends refusals only', async () => {
    const { get, entries } = await authApp('  auth: refused\n')
    expect((await get('/me', await hs256())).status).toBe(200)
    expect((await get('/me')).status).toBe(401)
    expect((await entries()).map((e) => [e.action, (e.data as { outcome?: string }).outcome])).toEqual([
      ['auth.refused', 'missing'],
    ])
  })

  it('with off (the default), appends nothing', async () => {
    const { get, entries, auditing } = await authApp('  maxBatch: 256\n')
    expect((await get('/me', await hs256())).status).toBe(200)
    expect((await get('/me')).status).toBe(401)
    expect((await get('/me', await forged())).status).toBe(401)
    expect(await entries()).toEqual([])
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 0 })
  })

  it('appends at most audit.authMaxPerSecond refusals a second and counts the rest as dropped', async () => {
    const { get, entries, url, auditing } = await authApp('  auth: refused\n  authMaxPerSecond: 2\n')
    const started = performance.now()
    const answers = await Promise.all(Array.from({ length: 20 }, () => get('/me')))
    const elapsedSeconds = (performance.now() - started) / 1000
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(401))

    const appended = (await entries()).length
    const samples = await scrape(url)
    const dropped = sampleValue(samples, 'keel_audit_auth_dropped_total', { action: 'auth.refused' })
    expect(appended + (dropped ?? 0)).toBe(20)
    // A budget of 2, refilled at 2 a second while the requests ran.
    expect(appended).toBeGreaterThanOrEqual(2)
    expect(appended).toBeLessThanOrEqual(2 + Math.floor(elapsedSeconds * 2))
    expect(dropped).toBeGreaterThan(0)
    expect(sampleValue(samples, 'keel_audit_auth_dropped_total', { action: 'auth.accepted' })).toBe(0)
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: appended })
  })

  it('answers without waiting for the audit commit', async () => {
    const { get, data, entries } = await authApp('  auth: refused\n')
    // Hold the chain's head locked in an open transaction: an append cannot commit until it ends.
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let isLocked = () => {}
    const locked = new Promise<void>((resolve) => {
      isLocked = resolve
    })
    const holding = data.db.transaction(async (tx) => {
      await tx.query('select seq from keel_audit_head for update')
      isLocked()
      await held
    })
    await locked
    expect((await get('/me', undefined, 'req-while-locked')).status).toBe(401)
    release()
    await holding
    expect((await entries()).map((e) => (e.data as { requestId: string }).requestId)).toEqual([
      'req-while-locked',
    ])
  })

  it('logs and counts an append that fails', async () => {
    const { get, url, data, auditing, logs } = await authApp('  auth: refused\n')
    const db = data.db
    // Without the head row every append fails (the chain cannot be extended).
    const [head] = await db.query<{ seq: number; hash: string }>('select seq, hash from keel_audit_head')
    await db.query('delete from keel_audit_head')
    expect((await get('/me', undefined, 'req-lost')).status).toBe(401)
    await auditing.trail.flush()

    const samples = await scrape(url)
    expect(sampleValue(samples, 'keel_audit_auth_failures_total', { action: 'auth.refused' })).toBe(1)
    expect(failureLine(logs)).toMatchObject({
      level: 'error',
      action: 'auth.refused',
      guard: 'auth.jwt',
      outcome: 'missing',
      request_id: 'req-lost',
      err: expect.objectContaining({ message: expect.stringContaining('head row is missing') }),
    })
    await db.query('insert into keel_audit_head (seq, hash) values ($1, $2)', [head!.seq, head!.hash])
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 0 })
  })

  it('records only the decisions of its own app, though the channel is process-wide', async () => {
    const first = await authApp('  auth: refused\n')
    const second = await authApp('  auth: refused\n')
    expect((await second.get('/me', undefined, 'req-second')).status).toBe(401)
    expect(await first.entries()).toEqual([])
    expect((await second.entries()).map((e) => (e.data as { requestId: string }).requestId)).toEqual([
      'req-second',
    ])
  })

  it('subscribes to keel:auth on start and unsubscribes on stop', async () => {
    const decisions = channel('keel:auth')
    expect(decisions.hasSubscribers).toBe(false)
    const { app } = await authApp('  auth: refused\n')
    expect(decisions.hasSubscribers).toBe(true)
    await app.stop()
    expect(decisions.hasSubscribers).toBe(false)
  })
})

const failureLine = (logs: LogCapture) =>
  logs.records.find((r) => r.msg === 'audit: an auth event could not be appended')

const resourceFile = (name: string, extra = '') => `
resource: ${name}
version: 1
fields:
  id:    { type: integer, primary: true, generated: true }
  body:  { type: text, required: true }
  code:  { type: string, unique: true }
endpoints:
  create: { auth: [writer], input: [body, code] }
  update: { auth: [writer], input: [body, code] }
  delete: { auth: [writer] }
${extra}`

/** A module after the audit module whose change hook throws on a body of "fail": the write rolls back. */
const failingHook = {
  name: 'failing-hook',
  dependsOn: ['audit'],
  [changeHookFor]: (): ResourceChangeHook => (change) => {
    if (change.row.body === 'fail') throw new Error('a later hook failed')
  },
}

async function resourceApp(
  auditYaml: string,
  options: { onChange?: (auditing: AuditModule) => ResourceChangeHook[]; withFailingHook?: boolean } = {},
) {
  const data = database({ migrations: false })
  const auditing = audit({ database: data })
  const { app } = testApp({
    modules: [data, auditing, ...(options.withFailingHook ? [failingHook] : [])],
    yaml: `audit:\n${auditYaml}`,
  })
  running.push(app)
  const { definitions } = checkResourceFiles([
    { file: 'resources/notes.yaml', text: resourceFile('notes') },
    { file: 'resources/drafts.yaml', text: resourceFile('drafts') },
  ])
  serveResources(app, {
    database: data,
    resources: definitions,
    guards: [jwtAuth({ secret: SECRET })],
    ...(options.onChange ? { onChange: options.onChange(auditing) } : {}),
  })
  const { url } = await app.start()
  for (const definition of definitions) await data.db.execute(createTableSql(definition).up)
  const token = await hs256(goodClaims({ sub: 'ada', roles: ['writer'] }))
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return { app, data, auditing, call, definitions }
}

const summary = async (auditing: AuditModule) =>
  (await auditing.trail.read()).map((e) => [e.action, e.actor, e.subject, e.data])

describe('audit.resources', () => {
  it('appends the writes of a listed resource in their transaction, and not those of an unlisted one', async () => {
    const { auditing, call, data } = await resourceApp('  resources: [notes]\n', { withFailingHook: true })
    expect((await call('POST', '/v1/notes', { body: 'first', code: 'a' })).status).toBe(201)
    expect((await call('PATCH', '/v1/notes/1', { body: 'second' })).status).toBe(200)
    // A unique violation: the statement fails, nothing is written, nothing is appended.
    expect((await call('POST', '/v1/notes', { body: 'dup', code: 'a' })).status).toBe(409)
    // A hook after the audit hook throws: the row and its entry roll back together.
    expect((await call('POST', '/v1/notes', { body: 'fail' })).status).toBe(500)
    expect((await call('DELETE', '/v1/notes/1')).status).toBe(204)
    expect((await call('POST', '/v1/drafts', { body: 'not audited' })).status).toBe(201)
    expect((await call('DELETE', '/v1/drafts/1')).status).toBe(204)

    expect(await summary(auditing)).toEqual([
      ['notes.created', 'ada', 'notes/1', {}],
      ['notes.updated', 'ada', 'notes/1', { changed: ['body'] }],
      ['notes.deleted', 'ada', 'notes/1', {}],
    ])
    expect(await data.db.query('select body from notes')).toEqual([])
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 3 })
  })

  it('with true, appends the writes of every served resource', async () => {
    const { auditing, call } = await resourceApp('  resources: true\n')
    expect((await call('POST', '/v1/notes', { body: 'n' })).status).toBe(201)
    expect((await call('POST', '/v1/drafts', { body: 'd' })).status).toBe(201)
    expect((await summary(auditing)).map(([action]) => action)).toEqual(['notes.created', 'drafts.created'])
  })

  it('appends one entry per write when the app also passes auditChanges() for a listed resource', async () => {
    const { auditing, call } = await resourceApp('  resources: [notes]\n', {
      onChange: (module) => [auditChanges(module)],
    })
    expect((await call('POST', '/v1/notes', { body: 'n' })).status).toBe(201)
    expect((await call('DELETE', '/v1/notes/1')).status).toBe(204)
    expect((await summary(auditing)).map(([action]) => action)).toEqual(['notes.created', 'notes.deleted'])
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 2 })
  })

  it('refuses to start when audit.resources names a resource that is not served, naming the key', async () => {
    const data = database({ migrations: false })
    const auditing = audit({ database: data })
    const { app } = testApp({
      modules: [data, auditing],
      yaml: 'audit:\n  resources: [notes, notez, tasks]\n',
    })
    running.push(app)
    const { definitions } = checkResourceFiles([
      { file: 'resources/notes.yaml', text: resourceFile('notes') },
    ])
    serveResources(app, { database: data, resources: definitions, guards: [jwtAuth({ secret: SECRET })] })
    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e as KeelError,
    )
    expect(isKeelError(error)).toBe(true)
    expect(error?.code).toBe('KEEL_MODULE_START_FAILED')
    expect(error?.cause).toMatchObject({
      code: 'KEEL_CONFIG_INVALID',
      issues: [{ key: 'audit.resources' }, { key: 'audit.resources' }],
    })
    expect(error?.message).toContain(
      'audit.resources: "notez" is not a resource served on this app (did you mean "notes"?); served: notes',
    )
    expect(error?.message).toContain(
      'audit.resources: "tasks" is not a resource served on this app; served: notes',
    )
    expect(error?.message).toContain('keel.yaml')
  })

  it.each([
    ['true', '  resources: true\n'],
    ['a list naming it', '  resources: [notes]\n'],
  ])('refuses an audit module added after serveResources served what it audits (%s)', (_, yaml) => {
    const data = database({ migrations: false })
    const { app } = testApp({ modules: [data], yaml: `audit:\n${yaml}` })
    const { definitions } = checkResourceFiles([
      { file: 'resources/notes.yaml', text: resourceFile('notes') },
    ])
    serveResources(app, { database: data, resources: definitions })
    const auditing = audit({ database: data })
    expect(() => app.use(auditing)).toThrow(
      /audit\.resources: module "audit" was added after serveResources served "notes", whose writes it could no longer audit/,
    )
    expect(app.modules.includes(auditing)).toBe(false)
  })

  it('lets an audit module that audits no served resource join after serveResources', () => {
    const data = database({ migrations: false })
    const { app } = testApp({ modules: [data], yaml: 'audit:\n  resources: [drafts]\n' })
    const { definitions } = checkResourceFiles([
      { file: 'resources/notes.yaml', text: resourceFile('notes') },
    ])
    serveResources(app, { database: data, resources: definitions })
    const auditing = audit({ database: data })
    app.use(auditing)
    expect(app.modules.includes(auditing)).toBe(true)
  })

  it('refuses a listed resource served from another database than the trail, at serveResources', () => {
    const data = database({ migrations: false })
    // A database module the app does not hold: the entry could not commit in the write's transaction.
    const other = database({ name: 'other', migrations: false })
    const auditing = audit({ database: data })
    const { app } = testApp({ modules: [data, auditing], yaml: 'audit:\n  resources: [notes]\n' })
    const { definitions } = checkResourceFiles([
      { file: 'resources/notes.yaml', text: resourceFile('notes') },
    ])
    expect(() => serveResources(app, { database: other, resources: definitions })).toThrow(
      /audit\.resources: resource "notes" is served from database module "other", but the audit trail of module "audit" is on "database"/,
    )
  })
})
