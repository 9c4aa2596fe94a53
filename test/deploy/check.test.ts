import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadAppForDeploy } from '../../src/cli/load-for-deploy.ts'
import { database } from '../../src/data/index.ts'
import { checkReadiness, type ReadinessReport } from '../../src/deploy/check/index.ts'
import { apiKeyAuth, cors, hashApiKey, jwtAuth, rateLimit } from '../../src/http/index.ts'
import { type App, type CreateAppOptions, createApp, defineConfigSection, Secret } from '../../src/index.ts'
import { inspector } from '../../src/inspector/index.ts'

// A root without keel.yaml: the apps below get their settings from `overrides`, a real layer.
const root = mkdtempSync(join(tmpdir(), 'keel-check-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const savedDatabaseUrl = process.env.DATABASE_URL
beforeEach(() => {
  // The migrations item connects when DATABASE_URL is set; these tests choose the URL themselves.
  delete process.env.DATABASE_URL
})
afterEach(() => {
  if (savedDatabaseUrl === undefined) delete process.env.DATABASE_URL
  else process.env.DATABASE_URL = savedDatabaseUrl
})

function prodApp(overrides: Record<string, unknown> = {}, options: CreateAppOptions = {}): App {
  return createApp({ root, profile: 'prod', overrides, ...options })
}

const check = (app: App, options: { databaseUrl?: string; migrationsDir?: string } = {}) =>
  checkReadiness(app, { entry: 'app.ts', ...options })

const item = (report: ReadinessReport, id: string) => {
  const found = report.items.find((i) => i.id === id)
  if (!found) throw new Error(`no item ${id} in ${report.items.map((i) => i.id).join(', ')}`)
  return found
}
const statuses = (report: ReadinessReport) => Object.fromEntries(report.items.map((i) => [i.id, i.status]))

const sized = { deploy: { resources: { cpu: '500m', memory: '256Mi', cpuLimit: '1', memoryLimit: '512Mi' } } }

describe('checkReadiness on fixture apps', () => {
  it('passes a service a reviewer would sign off, leaving only what needs a database or an inspector', async () => {
    const entry = 'test/deploy/fixtures/check-ready/app.ts'
    const report = await checkReadiness(await loadAppForDeploy(entry, 'prod'), { entry })
    expect(statuses(report)).toEqual({
      secrets: 'pass',
      'database-tls': 'pass',
      'database-url': 'pass',
      migrations: 'warn',
      probes: 'pass',
      resources: 'pass',
      'shutdown-deadline': 'pass',
      'drain-delay': 'pass',
      'server-host': 'pass',
      cors: 'pass',
      'rate-limits': 'pass',
      inspector: 'skip',
      'log-format': 'pass',
      tracing: 'pass',
      metrics: 'pass',
    })
    expect(report.summary).toEqual({ pass: 13, warn: 1, fail: 0, skip: 1 })
    expect(item(report, 'secrets').message).toBe(
      '2 secrets from ${VAR} references: database.url, ready.adminKey',
    )
    expect(item(report, 'cors').message).toBe('explicit origins only: https://app.example.com')
    expect(item(report, 'migrations')).toMatchObject({
      message: 'not checked: no database URL',
      hint: expect.stringContaining('pass --database-url URL'),
    })
    expect(item(report, 'inspector').message).toBe('no inspector in this app')
    // Passing items carry no hint.
    expect(report.items.filter((i) => i.status === 'pass' && i.hint !== undefined)).toEqual([])
  })

  it('fails every mistake of the flawed fixture, naming the file, line and key', async () => {
    const entry = 'test/deploy/fixtures/check-flawed/app.ts'
    const report = await checkReadiness(await loadAppForDeploy(entry, 'prod'), { entry })
    const yaml = 'test/deploy/fixtures/check-flawed/keel.yaml'
    expect(statuses(report)).toMatchObject({
      secrets: 'fail',
      'database-tls': 'fail',
      resources: 'fail',
      'shutdown-deadline': 'fail',
      'server-host': 'fail',
      'drain-delay': 'warn',
      cors: 'warn',
      'rate-limits': 'warn',
      'log-format': 'warn',
      tracing: 'warn',
      metrics: 'warn',
      // No migrations directory beside this app.
      migrations: 'pass',
    })
    expect(item(report, 'secrets')).toEqual({
      id: 'secrets',
      status: 'fail',
      message: `literal secret value in profile prod: flawed.apiToken at ${yaml}:9 (profile prod)`,
      hint: `${yaml}:9 (profile prod) flawed.apiToken: write \${KEEL_FLAWED__API_TOKEN} (a variable without default) in profiles.prod and put the value in the Secret`,
    })
    expect(item(report, 'resources').message).toBe(
      'a request exceeds its limit: cpu 2 > cpuLimit 500m, memory 1Gi > memoryLimit 512Mi',
    )
    expect(item(report, 'resources').hint).toContain(
      `${yaml}:24 (profile prod) deploy.resources.cpu: lower it`,
    )
    expect(item(report, 'resources').hint).toContain(
      `${yaml}:26 (profile prod) deploy.resources.memory: lower it`,
    )
    expect(item(report, 'shutdown-deadline').message).toBe(
      "shutdown.deadlineMs 30000, terminationGracePeriodSeconds 20: Kubernetes kills the pod before the app's own deadline",
    )
    expect(item(report, 'shutdown-deadline').hint).toContain(
      `${yaml}:22 (profile prod) deploy.terminationGracePeriodSeconds: raise it to at least 32`,
    )
    expect(item(report, 'database-tls').message).toBe(
      'sslmode prefer (data.sslmode): the connection may be plain text',
    )
    expect(item(report, 'database-tls').hint).toContain(
      `${yaml}:11 (profile prod) data.sslmode: set data.sslmode: verify-full`,
    )
    expect(item(report, 'server-host').hint).toContain(`${yaml}:13 (profile prod) server.host: set 0.0.0.0`)
    expect(item(report, 'rate-limits').message).toBe(
      'public routes without a rate limit: GET /greetings/:name, POST /orders',
    )
    expect(item(report, 'cors').message).toBe('app: origins "*": any site may read the responses')
    expect(item(report, 'log-format').hint).toContain(`${yaml}:15 (profile prod) log.format: set json`)
    expect(report.summary).toEqual({ pass: 3, warn: 6, fail: 5, skip: 1 })
  })

  it('fails a cors guard that answers any origin with credentials', async () => {
    const entry = 'test/deploy/fixtures/check-cors-credentials/app.ts'
    const report = await checkReadiness(await loadAppForDeploy(entry, 'prod'), { entry })
    expect(item(report, 'cors')).toMatchObject({
      status: 'fail',
      message: 'app: origins "*" with credentials: true',
      hint: expect.stringContaining('list the exact origins'),
    })
  })
})

describe('secrets', () => {
  const withKey = defineConfigSection('svc', { apiKey: Secret({ default: 'baked-into-the-code' }) })

  it('fails a non-empty secret default in code, which ships with every deployment', async () => {
    const report = await check(prodApp({}, { modules: [{ name: 'svc', config: withKey }] }))
    expect(item(report, 'secrets')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('svc.apiKey at default'),
    })
  })

  it('passes a secret that the environment sets', async () => {
    const app = prodApp(
      {},
      { modules: [{ name: 'svc', config: withKey }], env: { KEEL_SVC__API_KEY: 'from-the-pod' } },
    )
    expect(item(await check(app), 'secrets')).toMatchObject({
      status: 'pass',
      message: '1 secret from ${VAR} references: svc.apiKey',
    })
  })
})

describe('database-tls and database-url', () => {
  const withDb = (overrides: Record<string, unknown>) => prodApp(overrides, { modules: [database()] })

  it('passes verify-full, warns on require, fails on prefer and disable', async () => {
    expect(item(await check(withDb({ data: { sslmode: 'verify-full' } })), 'database-tls').status).toBe(
      'pass',
    )
    const required = item(await check(withDb({ data: { sslmode: 'require' } })), 'database-tls')
    expect(required).toMatchObject({
      status: 'warn',
      message: "sslmode require (data.sslmode): encrypted, but the server's host name is not checked",
      hint: expect.stringContaining('programmatic override data.sslmode: set data.sslmode: verify-full'),
    })
    for (const mode of ['prefer', 'disable'])
      expect(item(await check(withDb({ data: { sslmode: mode } })), 'database-tls').status).toBe('fail')
  })

  it('reads the sslmode of a literal URL when data.sslmode is unset, and warns when it cannot see one', async () => {
    const literal = withDb({ database: { url: 'postgres://app@db:5432/app?sslmode=verify-full' } })
    expect(item(await check(literal), 'database-tls')).toMatchObject({
      status: 'pass',
      message: 'sslmode verify-full (database.url): encrypted, certificate and host name checked',
    })
    const plain = withDb({ database: { url: 'postgres://app@db:5432/app?sslmode=disable' } })
    expect(item(await check(plain), 'database-tls').status).toBe('fail')
    const unseen = item(await check(withDb({})), 'database-tls')
    expect(unseen).toMatchObject({ status: 'warn', hint: expect.stringContaining('data.sslmode (not set)') })
  })

  it('warns when the profile leaves the database to an optional DATABASE_URL, and skips without a database', async () => {
    const report = await check(withDb({ data: { dataDir: '.keel/db' } }))
    expect(item(report, 'database-url')).toMatchObject({
      status: 'warn',
      message:
        'database.url is not set in profile prod: without DATABASE_URL the app starts on embedded PGlite (.keel/db), which replicas do not share',
    })
    const none = await check(prodApp())
    expect(statuses(none)).toMatchObject({
      'database-tls': 'skip',
      'database-url': 'skip',
      migrations: 'skip',
    })
  })
})

describe('resources', () => {
  it('warns when nobody chose them and passes requests equal to limits', async () => {
    expect(item(await check(prodApp()), 'resources')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('deploy.resources is all defaults'),
    })
    const equal = {
      deploy: { resources: { cpu: '1000m', cpuLimit: '1', memory: '1Gi', memoryLimit: '1024Mi' } },
    }
    expect(item(await check(prodApp(equal)), 'resources').status).toBe('pass')
  })

  it('fails a memory request above its limit, naming memory only', async () => {
    const over = { deploy: { resources: { memory: '1G', memoryLimit: '512Mi' } } }
    const found = item(await check(prodApp(over)), 'resources')
    expect(found).toMatchObject({
      status: 'fail',
      message: 'a request exceeds its limit: memory 1G > memoryLimit 512Mi',
    })
    expect(found.hint).not.toContain('deploy.resources.cpu')
  })
})

describe('shutdown', () => {
  it('passes the derived grace period, which covers the preStop wait and the deadline', async () => {
    expect(item(await check(prodApp()), 'shutdown-deadline')).toMatchObject({
      status: 'pass',
      message:
        'shutdown.deadlineMs 30000, terminationGracePeriodSeconds 40 less the 5 s preStop wait: 5 s margin',
    })
  })

  it('warns on a margin under 2 s and fails at equality, counting the preStop wait', async () => {
    const tight = prodApp({ shutdown: { deadlineMs: 24_000 }, deploy: { terminationGracePeriodSeconds: 30 } })
    expect(item(await check(tight), 'shutdown-deadline')).toMatchObject({
      status: 'warn',
      message:
        "shutdown.deadlineMs 24000, terminationGracePeriodSeconds 30 less the 5 s preStop wait: only 1000 ms between the app's deadline and the kill",
      hint: expect.stringContaining(
        'programmatic override deploy.terminationGracePeriodSeconds: raise it to at least 31',
      ),
    })
    // Without the preStop wait, the same numbers leave 6 s.
    const noDrain = prodApp({
      shutdown: { deadlineMs: 24_000, drainDelayMs: 0 },
      deploy: { terminationGracePeriodSeconds: 30 },
    })
    expect(item(await check(noDrain), 'shutdown-deadline')).toMatchObject({
      status: 'pass',
      message: 'shutdown.deadlineMs 24000, terminationGracePeriodSeconds 30: 6 s margin',
    })
    const equal = prodApp({ shutdown: { deadlineMs: 25_000 }, deploy: { terminationGracePeriodSeconds: 30 } })
    expect(item(await check(equal), 'shutdown-deadline').status).toBe('fail')
  })

  it('warns on a drain delay of 0 and passes the prod default', async () => {
    expect(item(await check(prodApp()), 'drain-delay')).toMatchObject({
      status: 'pass',
      message: 'shutdown.drainDelayMs 5000',
    })
    expect(item(await check(prodApp({ shutdown: { drainDelayMs: 0 } })), 'drain-delay').status).toBe('warn')
  })
})

describe('cors', () => {
  it('passes without a cors guard: CORS stays closed', async () => {
    expect(item(await check(prodApp()), 'cors')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('no cors guard'),
    })
  })

  it('warns on a predicate with credentials, which it cannot see into', async () => {
    const app = prodApp()
    app.guard(cors({ origins: (origin) => origin.endsWith('.example.com'), credentials: true }))
    expect(item(await check(app), 'cors')).toMatchObject({
      status: 'warn',
      message: 'app: a predicate decides the origins, with credentials: true',
    })
  })

  it('warns on a plain-HTTP origin and on "*" on one route, naming the route', async () => {
    const app = prodApp()
    app.guard(cors({ origins: ['https://app.example.com', 'http://legacy.example.com'] }))
    app.get('/feed', { guards: [cors({ origins: '*' })] }, () => [])
    const found = item(await check(app), 'cors')
    expect(found.status).toBe('warn')
    expect(found.message).toBe(
      'app: plain-HTTP origin http://legacy.example.com; GET /feed: origins "*": any site may read the responses',
    )
  })
})

describe('rate-limits', () => {
  it('passes when every public route is limited on the route or its group, whatever authenticated routes do', async () => {
    const app = prodApp()
    app.get('/search', { guards: [rateLimit({ limit: 10, windowMs: 1000 })] }, () => [])
    app.group('/public', { guards: [rateLimit({ limit: 10, windowMs: 1000 })] }, (g) => g.get('/a', () => 1))
    app.get('/admin', { guards: [apiKeyAuth({ keys: [{ id: 'k', hash: hashApiKey('key-1') }] })] }, () => 1)
    expect(item(await check(app), 'rate-limits')).toMatchObject({
      status: 'pass',
      message: 'all 2 public routes have a rateLimit guard',
    })
  })

  it('counts a route behind an optional auth guard as public', async () => {
    const app = prodApp()
    const optional = jwtAuth({ secret: 'k'.repeat(32), algorithms: ['HS256'], required: false })
    app.get('/maybe', { guards: [optional] }, () => 1)
    expect(item(await check(app), 'rate-limits')).toMatchObject({
      status: 'warn',
      message: 'public routes without a rate limit: GET /maybe',
    })
  })
})

describe('inspector', () => {
  it('skips without an inspector, then judges the real module: off, behind tokens, or open', async () => {
    expect(item(await check(prodApp()), 'inspector')).toEqual({
      id: 'inspector',
      status: 'skip',
      message: 'no inspector in this app',
    })
    // prod leaves it off unless enabled.
    expect(item(await check(prodApp({}, { modules: [inspector()] })), 'inspector')).toMatchObject({
      status: 'pass',
      message: 'the inspector is off in profile prod',
    })
    const guarded = prodApp(
      { inspector: { enabled: true, tokens: { viewer: ['v'.repeat(32)], operator: ['o'.repeat(32)] } } },
      { modules: [inspector()] },
    )
    expect(item(await check(guarded), 'inspector')).toMatchObject({
      status: 'warn',
      message:
        'the inspector requires a token (1 viewer, 1 operator), but it is served on the app port, which the Ingress exposes',
      hint: expect.stringContaining('set inspector.port'),
    })
    const ownPort = prodApp(
      { inspector: { enabled: true, port: 9465, tokens: { operator: ['o'.repeat(32)] } } },
      { modules: [inspector()] },
    )
    expect(item(await check(ownPort), 'inspector')).toMatchObject({
      status: 'pass',
      message: 'the inspector requires a token (0 viewer, 1 operator), on port 9465 of its own',
    })
    // Open outside dev and test, the app does not load, so keel check stops before any item.
    expect(() =>
      prodApp({ inspector: { enabled: true, requireToken: false } }, { modules: [inspector()] }),
    ).toThrow(/inspector\.requireToken: .*only the dev and test profiles allow/)
    const open = createApp({
      root,
      profile: 'dev',
      overrides: { inspector: { requireToken: false } },
      modules: [inspector()],
    })
    expect(item(await check(open), 'inspector')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('answers without a token in profile dev'),
      hint: expect.stringContaining('refuses to start with inspector.requireToken: false'),
    })
  })
})

describe('operations', () => {
  it('fails a loopback host and passes every interface', async () => {
    expect(item(await check(prodApp({ server: { host: 'localhost' } })), 'server-host').status).toBe('fail')
    expect(item(await check(prodApp({ server: { host: '::' } })), 'server-host').status).toBe('pass')
  })

  it('warns on debug logs, on auto logs outside prod, and passes auto in prod', async () => {
    expect(item(await check(prodApp({ log: { level: 'info,keel:http=debug' } })), 'log-format').status).toBe(
      'warn',
    )
    const staging = createApp({ root, profile: 'staging', overrides: sized })
    expect(item(await check(staging), 'log-format')).toMatchObject({
      status: 'warn',
      message: 'log.format auto: pretty when stdout is a terminal outside the prod profile',
    })
    expect(item(await check(prodApp({ log: { format: 'auto' } })), 'log-format')).toMatchObject({
      status: 'pass',
      message: 'log.format auto (JSON in prod), log.level info',
    })
  })

  it('warns on tracing to localhost and on metrics turned off', async () => {
    const local = prodApp({ tracing: { enabled: true } })
    expect(item(await check(local), 'tracing')).toMatchObject({
      status: 'warn',
      message: 'tracing.endpoint http://localhost:4318: inside a pod, localhost is the pod itself',
    })
    expect(item(await check(prodApp({ metrics: { enabled: false } })), 'metrics').status).toBe('warn')
  })
})

describe('migrations without a server', () => {
  it('passes when the app has no migrations directory and warns that nothing was checked without a URL', async () => {
    const app = prodApp({}, { modules: [database()] })
    expect(item(await check(app), 'migrations')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('no migration files'),
    })
    const chosen = item(
      await check(app, { migrationsDir: 'test/deploy/fixtures/check-ready/migrations' }),
      'migrations',
    )
    expect(chosen).toMatchObject({ status: 'warn', message: 'not checked: no database URL' })
  })

  it('fails naming the server when the database cannot be reached', async () => {
    const app = prodApp({}, { modules: [database()] })
    const found = item(
      await check(app, {
        databaseUrl: 'postgres://nobody:secret-password@127.0.0.1:1/none',
        migrationsDir: join(process.cwd(), 'test/deploy/fixtures/check-ready/migrations'),
      }),
      'migrations',
    )
    expect(found.status).toBe('fail')
    expect(found.message).toContain('cannot read the migration status of postgres://nobody:')
    expect(found.message).not.toContain('secret-password')
  })
})
