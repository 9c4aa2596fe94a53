import { afterEach, describe, expect, it } from 'vitest'
import { loadAppForDeploy } from '../../src/cli/load-for-deploy.ts'
import {
  deploymentPlan,
  dnsLabel,
  envNameOf,
  placeholderFor,
  restoreReferences,
} from '../../src/deploy/index.ts'

const fixture = 'test/deploy/fixtures/plan-app/app.ts'

describe('deploymentPlan', () => {
  const saved = { ...process.env }
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
  })

  it('describes the todo example in prod with its secrets by name and its stores', async () => {
    // A value in the shell that runs the generator must not reach the artifacts.
    process.env.TODO_JWT_SECRET = 'a-real-secret-from-the-shell-that-must-never-ship-0123456789'
    process.env.PORT = '8123'
    const plan = deploymentPlan(await loadAppForDeploy('examples/todo/app.ts', 'prod'), {
      entry: 'examples/todo/app.ts',
    })
    expect(process.env.TODO_JWT_SECRET).toBe('a-real-secret-from-the-shell-that-must-never-ship-0123456789')
    expect(process.env.TODO_ADMIN_KEY).toBeUndefined()
    expect(plan).toMatchObject({
      name: 'todo',
      profile: 'prod',
      namespace: 'todo',
      image: 'todo:0.0.0',
      entry: 'examples/todo/app.ts',
      ports: [{ name: 'http', port: 3000 }],
      probes: { live: '/live', ready: '/ready', startup: '/startup' },
      shutdown: { drainDelayMs: 5000, deadlineMs: 25000 },
      terminationGracePeriodSeconds: 35,
      // PGlite in development, PostgreSQL once it runs as replicas.
      services: ['postgres'],
      jobs: ['webhooks.deliver'],
    })
    expect(plan.config.secretNames).toEqual(['DATABASE_URL', 'TODO_ADMIN_KEY', 'TODO_JWT_SECRET'])
    expect(plan.config.literalSecrets).toEqual([])
    expect(plan.config.file).toContain('jwtSecret: ${TODO_JWT_SECRET}')
    expect(plan.config.file).toContain('adminKey: ${TODO_ADMIN_KEY}')
    expect(plan.config.file).toContain('port: 3000')
    expect(plan.config.file).not.toMatch(/keel-deploy-placeholder|must-never-ship|keel-dev-todo|8123/)
    const paths = plan.routes.map((r) => `${r.method} ${r.path}`)
    expect(paths).toContain('POST /v1/todos')
    expect(paths).not.toContain('GET /ready')
    expect(plan.guards.routes['POST /v1/todos']).toContain('auth.jwt')
    expect(plan.guards.app).toEqual(['securityHeaders', 'rateLimit'])
  })

  it('keeps references inside values, refers to literal secrets by variable and applies deploy', async () => {
    const plan = deploymentPlan(await loadAppForDeploy(fixture, 'prod'), { entry: fixture })
    expect(plan.name).toBe('plan-fixture-service')
    expect(plan.image).toBe('registry.example.com/plan:0.0.0')
    expect(plan.ports).toEqual([{ name: 'http', port: 4100 }])
    // The prod drain delay (5 s, preStop) + the 12.5 s deadline rounded up + 5 s.
    expect(plan.terminationGracePeriodSeconds).toBe(23)
    expect(plan.services).toEqual(['postgres', 'redis'])
    expect(plan.deploy.replicas).toMatchObject({ min: 3, max: 6 })
    expect(plan.routes).toEqual([{ method: 'GET', path: '/greetings/:name' }])
    expect(plan.config.file).toContain('url: postgres://app:${PLAN_DB_PASSWORD}@db:5432/app')
    expect(plan.config.file).toContain('authorization: ${KEEL_TRACING__HEADERS__AUTHORIZATION}')
    expect(plan.config.file).toContain('level: warn')
    expect(plan.config.file).not.toContain('literal-token-never-shipped')
    expect(plan.config.literalSecrets).toEqual(['tracing.headers.authorization'])
    // The URL is in the file, so DATABASE_URL is not needed; the password and the literal are, and
    // REDIS_URL, which the file refers to.
    expect(plan.config.secretNames).toEqual([
      'KEEL_TRACING__HEADERS__AUTHORIZATION',
      'PLAN_DB_PASSWORD',
      'REDIS_URL',
    ])
  })
})

describe('deploy helpers', () => {
  it('turns service names into DNS labels', () => {
    expect(dnsLabel('My_Service.v2')).toBe('my-service-v2')
    expect(dnsLabel('@@@')).toBe('app')
    expect(dnsLabel(`${'a'.repeat(62)}-b`)).toBe('a'.repeat(62))
  })

  it('names the variable Keel reads a key from', () => {
    expect(envNameOf(['todo', 'jwtSecret'])).toBe('KEEL_TODO__JWT_SECRET')
    expect(envNameOf(['server', 'port'])).toBe('KEEL_SERVER__PORT')
  })

  it('restores every placeholder in a text and leaves other text alone', () => {
    const text = `a ${placeholderFor('ONE')} b ${placeholderFor('TWO_2')}`
    expect(restoreReferences(text)).toBe('a ${ONE} b ${TWO_2}')
    expect(placeholderFor('X')).toHaveLength(64)
    expect(restoreReferences('keel-deploy-placeholder without a name')).toBe(
      'keel-deploy-placeholder without a name',
    )
  })
})
