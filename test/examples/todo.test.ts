import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import { AuditTrail } from 'keel/audit'
import { openDb } from 'keel/data'
import { verifyWebhook } from 'keel/webhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createTodoApp } from '../../examples/todo/app.ts'
import { freePort } from '../support/free-port.ts'
import { LogCapture } from '../support/log-capture.ts'
import { httpGet, startService, waitForReady } from '../support/service-process.ts'

// The todo example over HTTP, as a client sees it: one listening app on embedded PGlite in a
// temporary data directory (opening it takes seconds, so the tests share it and run in order).
// The last test stops the app and reads the directory the way `keel audit verify` does.

const repoRoot = join(import.meta.dirname, '..', '..')
const jwtSecret = 'test-todo-jwt-secret-of-at-least-32-bytes'
const adminKey = 'keel_test_todo_admin_key'
const authLimit = 10
const root = mkdtempSync(join(tmpdir(), 'keel-todo-'))
// Nested as the example's default (`.keel/todo-db`), whose parent a fresh checkout lacks.
const dataDir = join(root, '.keel', 'todo-db')
const logs = new LogCapture()
/** The example's own `audit` section: the tests run from another root, so keel.yaml is not read. */
const exampleAudit = (
  parse(readFileSync(join(repoRoot, 'examples/todo/keel.yaml'), 'utf8')) as { audit: object }
).audit
let app: App
let base: string

beforeAll(async () => {
  app = await createTodoApp({
    root,
    env: {},
    logStream: logs,
    overrides: {
      server: { port: 0, host: '127.0.0.1', keepAliveTimeoutMs: 1000 },
      metrics: { defaultMetrics: false },
      data: { dataDir },
      // Clients are told apart by X-Forwarded-For, so each test counts against its own limit.
      http: { trustProxy: ['127.0.0.1'] },
      todo: { jwtSecret, authRequestsPerMinute: authLimit, adminKey },
      jobs: { pollingIntervalSeconds: 0.5 },
      // The test's receiver listens on 127.0.0.1.
      webhooks: { allowPrivateNetworks: true },
      // Which writes and auth refusals are audited is the example's config, not code.
      audit: exampleAudit,
    },
  })
  base = (await app.start()).url
}, 120_000)

afterAll(async () => {
  await app?.stop()
  rmSync(root, { recursive: true, force: true })
})

/** Every password and token the tests send or receive: none may show up in the trail or the log. */
const secrets = new Set<string>()

let lastIp = 0
/** A client address of its own (sent as X-Forwarded-For from the trusted 127.0.0.1). */
const newIp = () => `10.0.0.${++lastIp}`

interface Answer {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; ip?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': options.ip ?? '10.0.0.250' }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.token) headers.authorization = `Bearer ${options.token}`
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} }
}

interface Tokens {
  accessToken: string
  refreshToken: string
  tokenType: string
  expiresIn: number
}

interface User {
  id: string
  email: string
  password: string
  ip: string
  tokens: Tokens
}

function keep(tokens: Tokens): Tokens {
  secrets.add(tokens.accessToken)
  secrets.add(tokens.refreshToken)
  return tokens
}

async function login(email: string, password: string, ip: string): Promise<Tokens> {
  const answer = await call('POST', '/auth/login', { body: { email, password }, ip })
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  return keep(answer.body as unknown as Tokens)
}

async function signUp(email: string, password: string): Promise<User> {
  secrets.add(password)
  const ip = newIp()
  const registered = await call('POST', '/auth/register', { body: { email, password }, ip })
  expect(registered.status, JSON.stringify(registered.body)).toBe(201)
  return { id: registered.body.id as string, email, password, ip, tokens: await login(email, password, ip) }
}

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>

let ada: User
let bob: User
let carol: User
let dave: User
const adaTodos: string[] = []

describe('examples/todo: accounts', () => {
  it('registers an account (201 with id and the lower-cased email) and refuses the same email in any case (409)', async () => {
    const ip = newIp()
    const password = 'correct horse battery staple'
    secrets.add(password)
    const created = await call('POST', '/auth/register', {
      body: { email: 'Ada@Example.com', password },
      ip,
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: 'ada@example.com' })

    const again = await call('POST', '/auth/register', { body: { email: 'ADA@example.com', password }, ip })
    expect(again.status).toBe(409)
    expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(again.body).toMatchObject({ status: 409, code: 'KEEL_CONFLICT' })

    ada = {
      id: created.body.id as string,
      email: 'ada@example.com',
      password,
      ip,
      tokens: await login('ada@example.com', password, ip),
    }
  })

  it('refuses a malformed email and a password shorter than 12 or longer than 128 characters (400)', async () => {
    const ip = newIp()
    const bad = await call('POST', '/auth/register', {
      body: { email: 'not-an-email', password: 'short' },
      ip,
    })
    expect(bad.status).toBe(400)
    expect((bad.body.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual([
      '/body/email',
      '/body/password',
    ])
    const long = await call('POST', '/auth/register', {
      body: { email: 'long@example.com', password: 'x'.repeat(129) },
      ip,
    })
    expect(long.status).toBe(400)
  })

  it('logs in with a Bearer pair: an HS256 access token for todo-api (15 min) and an opaque refresh token', async () => {
    expect(ada.tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 })
    expect(ada.tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const header = JSON.parse(Buffer.from(ada.tokens.accessToken.split('.')[0]!, 'base64url').toString())
    expect(header).toMatchObject({ alg: 'HS256' })
    const claims = claimsOf(ada.tokens.accessToken)
    expect(claims).toMatchObject({ iss: 'todo', aud: 'todo-api', sub: ada.id, roles: ['member'] })
    expect((claims.exp as number) - (claims.iat as number)).toBe(900)

    const me = await call('GET', '/me', { token: ada.tokens.accessToken })
    expect(me).toMatchObject({
      status: 200,
      body: { id: ada.id, email: 'ada@example.com', roles: ['member'] },
    })
    expect((await call('GET', '/me')).status).toBe(401)
    const forged = `${ada.tokens.accessToken.slice(0, -4)}AAAA`
    secrets.add(forged)
    expect((await call('GET', '/me', { token: forged })).status).toBe(401)
  })

  it('answers a wrong password and an unknown email with the same 401 problem', async () => {
    const ip = newIp()
    const wrong = await call('POST', '/auth/login', {
      body: { email: 'ada@example.com', password: 'not the right password' },
      ip,
    })
    const unknown = await call('POST', '/auth/login', {
      body: { email: 'nobody@example.com', password: 'not the right password' },
      ip,
    })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    // Alike but for the request's own id.
    const { instance: _a, requestId: _c, ...wrongProblem } = wrong.body
    const { instance: _b, requestId: _d, ...unknownProblem } = unknown.body
    expect(wrongProblem).toEqual(unknownProblem)
    expect(wrongProblem).toMatchObject({
      code: 'KEEL_UNAUTHORIZED',
      detail: 'the email or the password is wrong',
    })
    expect(wrong.headers.get('www-authenticate')).toBe(unknown.headers.get('www-authenticate'))
  })
})

describe('examples/todo: the todos resource', () => {
  it('creates todos owned by the caller (201, Location, defaults applied)', async () => {
    bob = await signUp('bob@example.com', 'bob has a long password')
    const titles = ['Buy milk', 'Write the report', 'Call the plumber', 'Buy stamps', 'Water the plants']
    for (const [i, title] of titles.entries()) {
      const body = {
        title,
        ...(i % 2 === 0 ? { priority: 'high' } : {}),
        ...(i === 1 ? { due: '2026-03-01', notes: 'quarterly' } : {}),
      }
      const created = await call('POST', '/v1/todos', { token: ada.tokens.accessToken, body })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      expect(created.headers.get('location')).toBe(`/v1/todos/${created.body.id}`)
      adaTodos.push(created.body.id as string)
    }
    const first = await call('GET', `/v1/todos/${adaTodos[0]}`, { token: ada.tokens.accessToken })
    expect(first.body).toEqual({
      id: adaTodos[0],
      title: 'Buy milk',
      done: false,
      priority: 'high',
      due: null,
      notes: null,
      owner_id: ada.id,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    const second = await call('GET', `/v1/todos/${adaTodos[1]}`, { token: ada.tokens.accessToken })
    expect(second.body).toMatchObject({ priority: 'normal', due: '2026-03-01', notes: 'quarterly' })
  })

  it('refuses a create without a token (401), with owner_id (422), or with a bad value (400)', async () => {
    expect((await call('POST', '/v1/todos', { body: { title: 'x' } })).status).toBe(401)
    const owned = await call('POST', '/v1/todos', {
      token: bob.tokens.accessToken,
      body: { title: 'Sneaky', owner_id: ada.id },
    })
    expect(owned.status).toBe(422)
    expect(owned.body).toMatchObject({ code: 'KEEL_UNPROCESSABLE' })
    const bad = await call('POST', '/v1/todos', {
      token: bob.tokens.accessToken,
      body: { title: '', priority: 'urgent' },
    })
    expect(bad.status).toBe(400)
    expect((bad.body.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual([
      '/body/priority',
      '/body/title',
    ])
  })

  it('lists with filters, search and cursor pages', async () => {
    const token = ada.tokens.accessToken
    const titles = async (query: string) => {
      const page = await call('GET', `/v1/todos?${query}`, { token })
      expect(page.status, JSON.stringify(page.body)).toBe(200)
      return (page.body.items as { title: string }[]).map((todo) => todo.title)
    }
    expect(await titles('priority=high&sort=created_at')).toEqual([
      'Buy milk',
      'Call the plumber',
      'Water the plants',
    ])
    expect(await titles('q=BUY&sort=created_at')).toEqual(['Buy milk', 'Buy stamps'])
    expect(await titles('done=true')).toEqual([])
    expect(await titles('sort=due&limit=1')).toEqual(['Write the report'])

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: Answer = await call(
        'GET',
        `/v1/todos?sort=-created_at&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token },
      )
      expect(page.status).toBe(200)
      seen.push(...(page.body.items as { id: string }[]).map((todo) => todo.id))
      cursor = page.body.nextCursor as string | null
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual([...adaTodos].reverse())
  })

  it('answers a repeated get from the cache, and a write drops the cached answer', async () => {
    const token = ada.tokens.accessToken
    const path = `/v1/todos/${adaTodos[2]}`
    await call('GET', path, { token })
    const hit = await call('GET', path, { token })
    expect(hit.headers.get('x-cache')).toBe('hit')
    const changed = await call('PATCH', path, { token, body: { done: true, notes: 'booked for Monday' } })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ id: adaTodos[2], done: true, notes: 'booked for Monday' })
    const after = await call('GET', path, { token })
    expect(after.headers.get('x-cache')).toBe('miss')
    expect(after.body).toMatchObject({ done: true })
    expect(await call('GET', '/v1/todos?done=true', { token })).toMatchObject({
      body: { items: [{ id: adaTodos[2] }] },
    })
  })

  it('refuses to move a todo to another owner on update (422)', async () => {
    const moved = await call('PATCH', `/v1/todos/${adaTodos[0]}`, {
      token: ada.tokens.accessToken,
      body: { owner_id: bob.id },
    })
    expect(moved.status).toBe(422)
  })

  it("hides a user's todos from another user: 404 on get, update and delete, absent from their list", async () => {
    const token = bob.tokens.accessToken
    const path = `/v1/todos/${adaTodos[0]}`
    for (const [method, body] of [['GET'], ['PATCH', { title: 'mine now' }], ['DELETE']] as const) {
      const answer = await call(method, path, { token, ...(body ? { body } : {}) })
      expect(answer.status, `${method} ${path}`).toBe(404)
      expect(answer.body).toMatchObject({ code: 'KEEL_NOT_FOUND' })
    }
    expect((await call('GET', '/v1/todos', { token })).body).toEqual({ items: [], nextCursor: null })
    const still = await call('GET', path, { token: ada.tokens.accessToken })
    expect(still.body).toMatchObject({ title: 'Buy milk' })
  })

  it('soft-deletes a todo: 204, then 404 and gone from the list', async () => {
    const token = ada.tokens.accessToken
    const path = `/v1/todos/${adaTodos[4]}`
    const removed = await call('DELETE', path, { token })
    expect(removed.status).toBe(204)
    expect((await call('GET', path, { token })).status).toBe(404)
    expect((await call('DELETE', path, { token })).status).toBe(404)
    const listed = await call('GET', '/v1/todos', { token })
    expect((listed.body.items as { id: string }[]).map((todo) => todo.id)).not.toContain(adaTodos[4])
  })
})

describe('examples/todo: refresh tokens', () => {
  it('rotates: each refresh answers a new pair that works, and the token it used is spent (401)', async () => {
    carol = await signUp('carol@example.com', 'carol has a long password')
    const first = carol.tokens
    const rotated = await call('POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
      ip: carol.ip,
    })
    expect(rotated.status).toBe(200)
    const second = keep(rotated.body as unknown as Tokens)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(claimsOf(second.accessToken)).toMatchObject({ sub: carol.id, roles: ['member'] })
    expect((await call('GET', '/me', { token: second.accessToken })).status).toBe(200)

    const third = await call('POST', '/auth/refresh', {
      body: { refreshToken: second.refreshToken },
      ip: carol.ip,
    })
    expect(third.status).toBe(200)
    keep(third.body as unknown as Tokens)

    const again = await call('POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
      ip: carol.ip,
    })
    expect(again.status).toBe(401)
    expect(again.body).toMatchObject({ code: 'KEEL_UNAUTHORIZED' })
  })

  it('treats a rotated refresh token presented again as theft: 401, and the newest token of its family stops working', async () => {
    dave = await signUp('dave@example.com', 'dave has a long password')
    const stolen = dave.tokens.refreshToken
    const legit = await call('POST', '/auth/refresh', { body: { refreshToken: stolen }, ip: dave.ip })
    expect(legit.status).toBe(200)
    const newest = keep(legit.body as unknown as Tokens)

    const replay = await call('POST', '/auth/refresh', { body: { refreshToken: stolen }, ip: newIp() })
    expect(replay.status).toBe(401)
    expect(replay.body).toMatchObject({ code: 'KEEL_UNAUTHORIZED' })
    const afterTheft = await call('POST', '/auth/refresh', {
      body: { refreshToken: newest.refreshToken },
      ip: dave.ip,
    })
    expect(afterTheft.status).toBe(401)
    // The same answer as for a token that never existed: nothing tells the caller what happened.
    const unknown = await call('POST', '/auth/refresh', { body: { refreshToken: 'nope' }, ip: dave.ip })
    expect(unknown.body.detail).toBe(afterTheft.body.detail)

    // A fresh login starts a new family and works again.
    const fresh = await login(dave.email, dave.password, dave.ip)
    const rotated = await call('POST', '/auth/refresh', {
      body: { refreshToken: fresh.refreshToken },
      ip: dave.ip,
    })
    expect(rotated.status).toBe(200)
    keep(rotated.body as unknown as Tokens)
  })
})

describe('examples/todo: webhooks', () => {
  it('delivers todos.created, signed, to a URL an operator subscribed with the admin key', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = []
    const receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk
      })
      req.on('end', () => {
        received.push({ headers: req.headers, body })
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`
      const refused = await call('POST', '/admin/webhooks', { body: { url, events: ['todos.created'] } })
      expect(refused.status).toBe(401)
      const subscribed = await fetch(`${base}/admin/webhooks`, {
        method: 'POST',
        headers: { 'x-api-key': adminKey, 'content-type': 'application/json', 'x-forwarded-for': newIp() },
        body: JSON.stringify({ url, events: ['todos.created'] }),
      })
      expect(subscribed.status).toBe(201)
      const subscription = (await subscribed.json()) as { id: string; secret: string }
      expect(subscription.secret).toMatch(/^whsec_/)

      const erin = await signUp('erin@example.com', 'erin has a long password')
      const created = await call('POST', '/v1/todos', {
        token: erin.tokens.accessToken,
        body: { title: 'Hooked' },
      })
      expect(created.status).toBe(201)
      for (let i = 0; i < 150 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(received).toHaveLength(1)
      const [delivery] = received
      expect(verifyWebhook(delivery!.headers, delivery!.body, { secrets: [subscription.secret] }).id).toMatch(
        /^[0-9a-f-]{36}$/,
      )
      expect(JSON.parse(delivery!.body)).toMatchObject({
        type: 'todos.created',
        data: { id: created.body.id, title: 'Hooked', owner_id: erin.id },
      })
      const deliveries = await fetch(`${base}/admin/webhooks/${subscription.id}/deliveries`, {
        headers: { 'x-api-key': adminKey, 'x-forwarded-for': newIp() },
      })
      expect(await deliveries.json()).toMatchObject([
        { event: 'todos.created', status: 'delivered', attempts: 1 },
      ])
    } finally {
      await new Promise((resolve) => receiver.close(resolve))
    }
  })
})

describe('examples/todo: the service around it', () => {
  it(`rate-limits /auth per client address: the ${authLimit + 1}th request in a minute is 429`, async () => {
    const ip = newIp()
    // Bodies that fail validation: the limit counts them too, and no password is hashed.
    const attempt = (from: string) => call('POST', '/auth/login', { body: { email: 'x' }, ip: from })
    for (let i = 0; i < authLimit; i++) expect((await attempt(ip)).status).toBe(400)
    const limited = await attempt(ip)
    expect(limited.status).toBe(429)
    expect(limited.body).toMatchObject({ code: 'KEEL_RATE_LIMITED' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await call('POST', '/auth/refresh', { body: { refreshToken: 'x' }, ip })).status).toBe(429)
    // Another address, and the todo routes, are not affected.
    expect((await attempt(newIp())).status).toBe(400)
    expect((await call('GET', '/v1/todos', { token: ada.tokens.accessToken, ip })).status).toBe(200)
  })

  it('sets the security headers', async () => {
    const answer = await call('GET', '/v1/todos', { token: ada.tokens.accessToken })
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    expect(answer.headers.get('x-frame-options')).toBe('DENY')
  })

  it('describes the todo and auth routes in /openapi.json', async () => {
    const document = (await call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>
    }
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/todos',
        '/v1/todos/{id}',
        '/auth/register',
        '/auth/login',
        '/auth/refresh',
        '/me',
      ]),
    )
    expect(Object.keys(document.paths['/v1/todos']!).sort()).toEqual(['get', 'post'])
    expect(Object.keys(document.paths['/v1/todos/{id}']!).sort()).toEqual(['delete', 'get', 'patch'])
  })

  it('serves the API reference at /docs from the app itself, reading its /openapi.json', async () => {
    const page = await fetch(`${base}/docs`, { headers: { 'x-forwarded-for': '10.0.0.251' } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('/openapi.json')
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(sources.length).toBeGreaterThan(0)
    for (const source of sources) {
      expect(source.startsWith('/docs/assets/'), source).toBe(true)
      const asset = await fetch(`${base}${source}`, { headers: { 'x-forwarded-for': '10.0.0.251' } })
      expect(asset.status, source).toBe(200)
      await asset.arrayBuffer()
    }
  })

  it('never logs a password or a token', () => {
    expect(secrets.size).toBeGreaterThan(10)
    for (const secret of secrets) expect(logs.text.includes(secret), 'a secret in the log').toBe(false)
  })

  it('after stop: migrations applied, the audit trail verifies with every action in order and no credential', async () => {
    await app.stop()
    const db = await openDb({ dataDir })
    try {
      const migrations = await db.query<{ id: string }>(
        "select id from keel_migrations where scope = 'app' order by id",
      )
      expect(migrations.map((m) => m.id)).toEqual([
        '0001_create_users',
        '0002_create_refresh_tokens',
        '0003_create_todos',
      ])
      const [softDeleted] = await db.query<{ deleted_at: Date | null }>(
        'select deleted_at from todos where id = $1',
        [adaTodos[4]],
      )
      expect(softDeleted?.deleted_at).toBeInstanceOf(Date)

      const trail = new AuditTrail(db)
      const check = await trail.verify()
      expect(check.ok, JSON.stringify(check)).toBe(true)
      const entries = await trail.read({ limit: 1000 })
      expect(check.entries).toBe(entries.length)
      const actionsOf = (actor: string) => entries.filter((e) => e.actor === actor).map((e) => e.action)
      expect(actionsOf(ada.id)).toEqual([
        'auth.registered',
        'auth.login',
        'auth.login_failed',
        ...Array(5).fill('todos.created'),
        'todos.updated',
        'todos.deleted',
      ])
      const update = entries.find((e) => e.action === 'todos.updated')
      expect(update).toMatchObject({ subject: `todos/${adaTodos[2]}`, data: { changed: ['done', 'notes'] } })
      expect(entries.find((e) => e.action === 'todos.deleted')).toMatchObject({
        subject: `todos/${adaTodos[4]}`,
      })
      // audit.auth: refused in keel.yaml: the guards' refusals, with the route and the outcome.
      const refused = entries.filter((e) => e.action === 'auth.refused')
      expect(refused.map((e) => [e.actor, e.subject, e.data])).toEqual([
        [
          null,
          'GET /me',
          { guard: 'auth.jwt', outcome: 'missing', requestId: expect.any(String), ip: '10.0.0.250' },
        ],
        [
          null,
          'GET /me',
          { guard: 'auth.jwt', outcome: 'bad_signature', requestId: expect.any(String), ip: '10.0.0.250' },
        ],
        [
          null,
          // The group's root route, as registered.
          'POST /admin/webhooks/',
          { guard: 'auth.apiKey', outcome: 'missing', requestId: expect.any(String), ip: '10.0.0.250' },
        ],
      ])
      const unknownEmail = entries.filter((e) => e.action === 'auth.login_failed' && e.actor === null)
      expect(unknownEmail).toHaveLength(1)
      // The replay revoked the family's one live token; the legitimate client's next refresh, with
      // that now revoked token, is recorded as reuse too (with nothing left to revoke).
      const reused = entries.filter((e) => e.action === 'auth.refresh_reused')
      expect(reused.map((e) => [e.actor, e.data])).toEqual([
        [carol.id, { family: expect.any(String), revoked: 1 }],
        [dave.id, { family: expect.any(String), revoked: 1 }],
        [dave.id, { family: expect.any(String), revoked: 0 }],
      ])
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1))

      // Scan every stored row, of the trail and of the account tables, for any credential.
      const rows = JSON.stringify([
        await db.query('select * from keel_audit_entries'),
        await db.query('select * from users'),
        await db.query('select * from refresh_tokens'),
      ])
      for (const secret of secrets) expect(rows.includes(secret), 'a credential in the database').toBe(false)
      const [hash] = await db.query<{ password_hash: string }>(
        'select password_hash from users where id = $1',
        [ada.id],
      )
      expect(hash?.password_hash).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/)
    } finally {
      await db.close()
    }
  })
})

describe('examples/todo as a process', () => {
  it("runs `npm start`'s entry: ready on its port, registers an account, exits 0 on SIGTERM", async () => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'keel-todo-process-'))
    const service = startService('examples/todo/main.ts', {
      cwd: repoRoot,
      env: { PORT: String(port), TODO_DATA_DIR: join(dir, 'db') },
    })
    try {
      await waitForReady(service, port, 60_000)
      const ready = await httpGet(port, '/ready')
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'pass', state: 'ready' })
      const registered = await fetch(`http://127.0.0.1:${port}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ email: 'proc@example.com', password: 'a process password' }),
      })
      expect(registered.status).toBe(201)
      expect(await registered.json()).toMatchObject({ email: 'proc@example.com' })

      service.signal('SIGTERM')
      const exit = await service.waitForExit(20_000)
      expect(exit.code, service.output).toBe(0)
      expect(service.records.some((r) => r.msg === 'app stopped')).toBe(true)
      expect(service.output).not.toContain('a process password')
    } finally {
      await service.kill()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
