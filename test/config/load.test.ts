// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in YAML text is the syntax under test
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import {
  ConfigError,
  type ConfigIssue,
  defineConfigSection,
  describeSource,
  type LoadConfigOptions,
  loadConfig,
} from 'keel/config'
import { describe, expect, it } from 'vitest'

/** A fresh service root holding only the given files. */
function serviceRoot(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'keel-config-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text)
  return root
}

/** Loads with an empty environment unless the test gives one; never reads process.env. */
const load = (options: LoadConfigOptions = {}) => loadConfig({ env: {}, ...options })

function loadError(options: LoadConfigOptions): ConfigError {
  try {
    load(options)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected loadConfig to throw a ConfigError')
}

const issueAt = (error: ConfigError, key: string): ConfigIssue => {
  const issue = error.issues.find((i) => i.key === key)
  if (!issue) throw new Error(`no issue for ${key}; issues: ${error.message}`)
  return issue
}

const source = (config: ReturnType<typeof load>, key: string) => {
  const found = config.sourceOf(key)
  return found && describeSource(found)
}

describe('loadConfig layers', () => {
  // One key (server.port) set by more and more layers; each higher layer must win.
  const yaml = 'server:\n  port: 4000\nprofiles:\n  prod:\n    server:\n      port: 4001\n'

  it('uses the schema default when nothing sets a key', () => {
    const config = load({ root: serviceRoot() })
    expect(config.values.server.port).toBe(3000)
    expect(config.sourceOf('server.port')).toEqual({ kind: 'default' })
    expect(source(config, 'server.port')).toBe('default')
    expect(config.file).toBeUndefined()
    expect(config.profile).toBe('dev')
  })

  it('takes service name and version from package.json over the defaults', () => {
    const root = serviceRoot({ 'package.json': JSON.stringify({ name: '@acme/orders', version: '1.2.3' }) })
    const config = load({ root })
    expect(config.values.service).toEqual({ name: 'orders', version: '1.2.3' })
    expect(config.sourceOf('service.name')).toEqual({ kind: 'package', file: 'package.json' })
    expect(source(config, 'service.version')).toBe('package.json')
  })

  it('applies the built-in profile over package.json and defaults', () => {
    const config = load({ root: serviceRoot(), profile: 'prod' })
    expect(config.values.server.host).toBe('0.0.0.0')
    expect(config.sourceOf('server.host')).toEqual({ kind: 'default', profile: 'prod' })
    expect(source(config, 'server.host')).toBe('default for profile prod')
  })

  it('lets keel.yaml override package.json and the built-in profile', () => {
    const root = serviceRoot({
      'package.json': JSON.stringify({ name: 'from-package', version: '9.9.9' }),
      'keel.yaml': 'service:\n  name: from-file\nserver:\n  host: 10.0.0.1\n',
    })
    const config = load({ root, profile: 'prod' })
    expect(config.values.service.name).toBe('from-file')
    expect(config.values.service.version).toBe('9.9.9')
    expect(config.values.server.host).toBe('10.0.0.1')
    expect(config.sourceOf('service.name')).toMatchObject({ kind: 'file', line: 2 })
    expect(source(config, 'server.host')).toMatch(/keel\.yaml:4$/)
    expect(config.file).toBe(join(root, 'keel.yaml'))
  })

  it('lets the profile section override the rest of the file', () => {
    const config = load({ root: serviceRoot({ 'keel.yaml': yaml }), profile: 'prod' })
    expect(config.values.server.port).toBe(4001)
    expect(config.sourceOf('server.port')).toMatchObject({ kind: 'profile', profile: 'prod', line: 6 })
    expect(source(config, 'server.port')).toMatch(/keel\.yaml:6 \(profile prod\)$/)
  })

  it('ignores the profile sections of other profiles', () => {
    const config = load({ root: serviceRoot({ 'keel.yaml': yaml }), profile: 'dev' })
    expect(config.values.server.port).toBe(4000)
    expect(config.sourceOf('server.port')).toMatchObject({ kind: 'file', line: 2 })
  })

  it('lets the environment override the profile section', () => {
    const config = load({
      root: serviceRoot({ 'keel.yaml': yaml }),
      env: { KEEL_PROFILE: 'prod', KEEL_SERVER__PORT: '4002' },
    })
    expect(config.profile).toBe('prod')
    expect(config.values.server.port).toBe(4002)
    expect(config.sourceOf('server.port')).toEqual({ kind: 'env', name: 'KEEL_SERVER__PORT' })
    expect(source(config, 'server.port')).toBe('env KEEL_SERVER__PORT')
  })

  it('lets programmatic overrides win over everything', () => {
    const config = load({
      root: serviceRoot({ 'keel.yaml': yaml }),
      env: { KEEL_PROFILE: 'prod', KEEL_SERVER__PORT: '4002', PORT: '4005' },
      overrides: { server: { port: 4003 } },
    })
    expect(config.values.server.port).toBe(4003)
    expect(config.sourceOf('server.port')).toEqual({ kind: 'override' })
    expect(source(config, 'server.port')).toBe('programmatic override')
  })

  it('keeps the sources of untouched keys while a sibling is overridden', () => {
    const config = load({
      root: serviceRoot({ 'keel.yaml': 'server:\n  host: 0.0.0.0\n' }),
      env: { KEEL_SERVER__PORT: '8080' },
    })
    expect(config.sourceOf('server.host')).toMatchObject({ kind: 'file', line: 2 })
    expect(config.sourceOf('server.port')).toEqual({ kind: 'env', name: 'KEEL_SERVER__PORT' })
    expect(config.sourceOf('server.keepAliveTimeoutMs')).toEqual({ kind: 'default' })
  })

  it('prefers the explicit profile option over KEEL_PROFILE', () => {
    const config = load({ root: serviceRoot(), profile: 'test', env: { KEEL_PROFILE: 'prod' } })
    expect(config.profile).toBe('test')
    expect(config.values.log.level).toBe('warn')
    expect(config.values.server.host).toBe('127.0.0.1')
  })

  it('lists every effective value with its source, sorted by key', () => {
    const config = load({ root: serviceRoot({ 'keel.yaml': 'server:\n  port: 4000\n' }) })
    const entries = config.entries()
    const keys = entries.map((e) => e.key)
    expect(keys).toEqual([...keys].sort((a, b) => a.localeCompare(b)))
    expect(entries.find((e) => e.key === 'server.port')).toMatchObject({
      value: 4000,
      source: { kind: 'file', line: 2 },
      isSecret: false,
    })
    expect(keys).toContain('shutdown.drainDelayMs')
    expect(keys).toContain('log.level')
  })
})

describe('built-in prod profile', () => {
  it('binds all interfaces, logs JSON and waits 5 s for load balancers', () => {
    const config = load({ root: serviceRoot(), env: { KEEL_PROFILE: 'prod' } })
    expect(config.values.server.host).toBe('0.0.0.0')
    expect(config.values.log.format).toBe('json')
    expect(config.values.shutdown.drainDelayMs).toBe(5000)
    for (const key of ['server.host', 'log.format', 'shutdown.drainDelayMs']) {
      expect(config.sourceOf(key)).toEqual({ kind: 'default', profile: 'prod' })
    }
  })

  it('leaves the dev defaults alone', () => {
    const config = load({ root: serviceRoot() })
    expect(config.values.server.host).toBe('127.0.0.1')
    expect(config.values.log.format).toBe('auto')
    expect(config.values.shutdown.drainDelayMs).toBe(0)
  })
})

describe('environment variables', () => {
  const root = serviceRoot()

  it('coerces integers, numbers, booleans and lists by the schema', () => {
    const config = load({
      root,
      env: {
        KEEL_SERVER__PORT: '8080',
        KEEL_TRACING__SAMPLE_RATIO: '0.25',
        KEEL_METRICS__ENABLED: 'no',
        KEEL_METRICS__DEFAULT_METRICS: '0',
        KEEL_TRACING__ENABLED: 'yes',
        KEEL_LOG__REDACT: 'req.body.card, user.ssn',
      },
    })
    expect(config.values.server.port).toBe(8080)
    expect(config.values.tracing.sampleRatio).toBe(0.25)
    expect(config.values.metrics.enabled).toBe(false)
    expect(config.values.metrics.defaultMetrics).toBe(false)
    expect(config.values.tracing.enabled).toBe(true)
    expect(config.values.log.redact).toEqual(['req.body.card', 'user.ssn'])
  })

  it.each([
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['true', true],
    ['FALSE', false],
  ])('reads boolean %j as %j', (text, expected) => {
    expect(load({ root, env: { KEEL_METRICS__ENABLED: text } }).values.metrics.enabled).toBe(expected)
  })

  it('reads "null" as null for a nullable key, and a number otherwise', () => {
    expect(load({ root, env: { KEEL_METRICS__PORT: 'null' } }).values.metrics.port).toBeNull()
    const config = load({ root, env: { KEEL_METRICS__PORT: '9464' } })
    expect(config.values.metrics.port).toBe(9464)
    expect(config.sourceOf('metrics.port')).toEqual({ kind: 'env', name: 'KEEL_METRICS__PORT' })
  })

  it('matches SNAKE_CASE segments to camelCase keys', () => {
    const config = load({
      root,
      env: { KEEL_SHUTDOWN__DRAIN_DELAY_MS: '250', KEEL_HEALTH__CHECKTIMEOUTMS: '70' },
    })
    expect(config.values.shutdown.drainDelayMs).toBe(250)
    expect(config.values.health.checkTimeoutMs).toBe(70)
    expect(config.sourceOf('shutdown.drainDelayMs')).toEqual({
      kind: 'env',
      name: 'KEEL_SHUTDOWN__DRAIN_DELAY_MS',
    })
  })

  it('nests into record sections such as tracing.headers', () => {
    const config = load({ root, env: { KEEL_TRACING__HEADERS__AUTHORIZATION: 'Bearer abc' } })
    expect(config.values.tracing.headers).toEqual({ authorization: 'Bearer abc' })
    expect(config.sourceOf('tracing.headers.authorization')).toEqual({
      kind: 'env',
      name: 'KEEL_TRACING__HEADERS__AUTHORIZATION',
    })
  })

  it('ignores KEEL_ variables without a double underscore, such as KEEL_PROFILE', () => {
    const config = load({ root, env: { KEEL_PROFILE: 'dev', KEEL_SOMETHING: 'x' } })
    expect(config.profile).toBe('dev')
  })

  it('takes environment values literally, without ${} interpolation', () => {
    const config = load({ root, env: { KEEL_SERVICE__NAME: '${NOT_EXPANDED}' } })
    expect(config.values.service.name).toBe('${NOT_EXPANDED}')
  })

  it('names the variable when its value has the wrong type', () => {
    const error = loadError({ root, env: { KEEL_SERVER__PORT: '80a' } })
    expect(error.code).toBe('KEEL_CONFIG_INVALID')
    expect(issueAt(error, 'server.port').source).toEqual({ kind: 'env', name: 'KEEL_SERVER__PORT' })
    expect(error.message).toContain(
      'server.port: expected integer 0-65535, got "80a" (from env KEEL_SERVER__PORT)',
    )
  })

  it('states exclusive bounds in the expected range', () => {
    const error = loadError({ root, env: { KEEL_DEPLOY__SLOS__AVAILABILITY_PERCENT: '100' } })
    expect(error.message).toContain('deploy.slos.availabilityPercent: expected number > 0 and < 100, got 100')
  })

  it('names the variable for an unknown key, with a did-you-mean hint', () => {
    const error = loadError({ root, env: { KEEL_SERVER__PROT: '8080' } })
    const issue = issueAt(error, 'server.prot')
    expect(issue.source).toEqual({ kind: 'env', name: 'KEEL_SERVER__PROT' })
    expect(error.message).toContain(
      'server.prot: unknown key; did you mean "port"? (from env KEEL_SERVER__PROT)',
    )
  })

  it('names the variable for an unknown section', () => {
    const error = loadError({ root, env: { KEEL_SERVR__PORT: '8080' } })
    expect(error.message).toContain('unknown section; did you mean "server"?')
    expect(error.message).toContain('KEEL_SERVR__PORT')
  })
})

describe('well-known environment variables', () => {
  const root = serviceRoot()

  it.each([
    ['PORT', '8081', 'server.port', 8081],
    ['HOST', '0.0.0.0', 'server.host', '0.0.0.0'],
    ['LOG_LEVEL', 'debug', 'log.level', 'debug'],
    ['DATABASE_URL', 'postgres://db:5432/app', 'database.url', 'postgres://db:5432/app'],
    ['REDIS_URL', 'redis://cache:6379', 'redis.url', 'redis://cache:6379'],
    ['NATS_URL', 'nats://bus:4222', 'nats.url', 'nats://bus:4222'],
    ['OTEL_SERVICE_NAME', 'billing', 'service.name', 'billing'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318', 'tracing.endpoint', 'http://collector:4318'],
  ])('%s sets %s', (name, text, key, expected) => {
    const config = load({ root, env: { [name]: text } })
    const [section, field] = key.split('.') as [string, string]
    expect((config.values as Record<string, Record<string, unknown>>)[section]?.[field]).toBe(expected)
    expect(config.sourceOf(key)).toEqual({ kind: 'env', name })
  })

  it('turns tracing on when OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
    const config = load({ root, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } })
    expect(config.values.tracing.enabled).toBe(true)
    expect(source(config, 'tracing.enabled')).toBe('env OTEL_EXPORTER_OTLP_ENDPOINT')
    expect(load({ root }).values.tracing.enabled).toBe(false)
  })

  it('lets KEEL_TRACING__ENABLED=false win over the OTLP endpoint', () => {
    const config = load({
      root,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', KEEL_TRACING__ENABLED: 'false' },
    })
    expect(config.values.tracing.enabled).toBe(false)
    expect(config.values.tracing.endpoint).toBe('http://collector:4318')
  })

  it('lets the KEEL_ form win over the well-known name', () => {
    const config = load({ root, env: { PORT: '8081', KEEL_SERVER__PORT: '8082' } })
    expect(config.values.server.port).toBe(8082)
    expect(config.sourceOf('server.port')).toEqual({ kind: 'env', name: 'KEEL_SERVER__PORT' })
  })

  it('ignores a well-known variable set to the empty string', () => {
    const config = load({ root, env: { PORT: '' } })
    expect(config.values.server.port).toBe(3000)
    expect(config.sourceOf('server.port')).toEqual({ kind: 'default' })
  })

  it('names PORT when it is not a number', () => {
    const error = loadError({ root, env: { PORT: 'eighty' } })
    expect(error.message).toContain('server.port: expected integer 0-65535, got "eighty" (from env PORT)')
  })
})

describe('${VAR} interpolation in keel.yaml', () => {
  it('replaces ${VAR} with the variable and keeps the file as the source', () => {
    const root = serviceRoot({ 'keel.yaml': 'database:\n  url: postgres://${DB_HOST}:5432/app\n' })
    const config = load({ root, env: { DB_HOST: 'db.internal' } })
    expect(config.values.database.url).toBe('postgres://db.internal:5432/app')
    expect(config.sourceOf('database.url')).toMatchObject({ kind: 'file', line: 2 })
  })

  it('uses the default of ${VAR:default} when the variable is unset, the variable when set', () => {
    const root = serviceRoot({ 'keel.yaml': 'tracing:\n  endpoint: http://${OTEL_HOST:localhost}:4318\n' })
    expect(load({ root }).values.tracing.endpoint).toBe('http://localhost:4318')
    expect(load({ root, env: { OTEL_HOST: 'collector' } }).values.tracing.endpoint).toBe(
      'http://collector:4318',
    )
  })

  it('accepts an empty default', () => {
    const root = serviceRoot({ 'keel.yaml': 'service:\n  version: "1.0${SUFFIX:}"\n' })
    expect(load({ root }).values.service.version).toBe('1.0')
  })

  it('keeps $${ as a literal ${', () => {
    const root = serviceRoot({ 'keel.yaml': 'service:\n  name: "cost-$${NOT_A_VAR}"\n' })
    expect(load({ root }).values.service.name).toBe('cost-${NOT_A_VAR}')
  })

  it('coerces an interpolated value to the type of its key', () => {
    const root = serviceRoot({
      'keel.yaml': 'server:\n  port: ${P:3000}\nmetrics:\n  enabled: ${METRICS:no}\n',
    })
    const byDefault = load({ root })
    expect(byDefault.values.server.port).toBe(3000)
    expect(byDefault.values.metrics.enabled).toBe(false)
    const fromEnv = load({ root, env: { P: '8088', METRICS: 'yes' } })
    expect(fromEnv.values.server.port).toBe(8088)
    expect(fromEnv.values.metrics.enabled).toBe(true)
  })

  it('reports an interpolated value of the wrong type against the file line', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  port: ${P:3000}\n' })
    const error = loadError({ root, env: { P: 'http' } })
    expect(error.message).toMatch(/keel\.yaml:2 server\.port: expected integer 0-65535, got "http"/)
  })

  it('interpolates inside lists', () => {
    const root = serviceRoot({
      'keel.yaml': 'log:\n  redact:\n    - ${FIELD:req.body.card}\n    - user.ssn\n',
    })
    expect(load({ root }).values.log.redact).toEqual(['req.body.card', 'user.ssn'])
  })

  it('interpolates the chosen profile section', () => {
    const root = serviceRoot({
      'keel.yaml': 'profiles:\n  prod:\n    server:\n      host: ${BIND:0.0.0.0}\n',
    })
    const config = load({ root, profile: 'prod', env: { BIND: '10.1.2.3' } })
    expect(config.values.server.host).toBe('10.1.2.3')
    expect(config.sourceOf('server.host')).toMatchObject({ kind: 'profile', line: 4 })
  })

  it('stops on an unset variable without a default, naming the variable, key, file and line', () => {
    const root = serviceRoot({
      'keel.yaml': 'service:\n  name: orders\ndatabase:\n  url: postgres://${DB_USER}@db/app\n',
    })
    const error = loadError({ root })
    expect(error.code).toBe('KEEL_CONFIG_MISSING_VAR')
    expect(error.issues).toHaveLength(1)
    expect(error.issues[0]).toMatchObject({ code: 'KEEL_CONFIG_MISSING_VAR', key: 'database.url' })
    expect(error.message).toContain('DB_USER')
    expect(error.message).toMatch(/keel\.yaml:4 database\.url: variable DB_USER is not set/)
  })

  it('reports every missing variable at once, in lists and profile sections too', () => {
    const root = serviceRoot({
      'keel.yaml': [
        'server:',
        '  host: ${BIND_HOST}',
        'log:',
        '  redact:',
        '    - ${SECRET_FIELD}',
        'profiles:',
        '  prod:',
        '    service:',
        '      name: ${SERVICE_NAME}',
        '',
      ].join('\n'),
    })
    const error = loadError({ root, profile: 'prod' })
    expect(error.code).toBe('KEEL_CONFIG_MISSING_VAR')
    expect(error.message).toContain('config: 3 problems')
    expect(error.message).toMatch(/keel\.yaml:2 server\.host: variable BIND_HOST/)
    expect(error.message).toMatch(/keel\.yaml:5 log\.redact\.0: variable SECRET_FIELD/)
    expect(error.message).toMatch(/keel\.yaml:9 \(profile prod\) service\.name: variable SERVICE_NAME/)
  })

  it('does not resolve variables of profiles that are not chosen', () => {
    const root = serviceRoot({
      'keel.yaml': 'profiles:\n  prod:\n    database:\n      url: ${DATABASE_URL}\n',
    })
    expect(load({ root, profile: 'dev' }).values.database.url).toBeUndefined()
  })
})

describe('unknown keys', () => {
  it('names the file, line and key, with a did-you-mean hint', () => {
    const root = serviceRoot({ 'keel.yaml': 'service:\n  name: x\nserver:\n  prot: 3000\n' })
    const error = loadError({ root })
    expect(error.code).toBe('KEEL_CONFIG_INVALID')
    expect(issueAt(error, 'server.prot').source).toMatchObject({ kind: 'file', line: 4 })
    expect(error.message).toMatch(/keel\.yaml:4 server\.prot: unknown key; did you mean "port"\?/)
  })

  it('names an unknown section with a hint', () => {
    const root = serviceRoot({ 'keel.yaml': 'sever:\n  port: 3000\n' })
    expect(loadError({ root }).message).toMatch(
      /keel\.yaml:1 sever: unknown section; did you mean "server"\?/,
    )
  })

  it('gives no hint when nothing is close', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  zzzzzz: 1\n' })
    const error = loadError({ root })
    expect(error.message).toMatch(/server\.zzzzzz: unknown key$/m)
  })

  it('finds unknown keys inside the chosen profile section', () => {
    const root = serviceRoot({ 'keel.yaml': 'profiles:\n  prod:\n    shutdown:\n      drainDelay: 10\n' })
    const error = loadError({ root, profile: 'prod' })
    expect(error.message).toMatch(
      /keel\.yaml:4 \(profile prod\) shutdown\.drainDelay: unknown key; did you mean "drainDelayMs"\?/,
    )
  })

  it('names programmatic overrides as the source', () => {
    const error = loadError({ root: serviceRoot(), overrides: { server: { prot: 1 } } })
    expect(error.message).toContain(
      'server.prot: unknown key; did you mean "port"? (from programmatic override)',
    )
  })

  it('reports a mapping under a scalar key as a wrong type, not as an unknown key', () => {
    const root = serviceRoot({ 'keel.yaml': 'log:\n  level:\n    root: info\n' })
    const error = loadError({ root })
    expect(error.issues.map((i) => i.key)).toEqual(['log.level'])
    expect(error.message).toMatch(/keel\.yaml:\d log\.level: expected string, got a mapping/)
  })
})

describe('wrong types', () => {
  it('lists every bad key at once with its file line', () => {
    const root = serviceRoot({
      'keel.yaml': [
        'server:',
        '  port: eighty',
        'metrics:',
        '  enabled: maybe',
        'log:',
        '  format: xml',
        '',
      ].join('\n'),
    })
    const error = loadError({ root })
    expect(error.code).toBe('KEEL_CONFIG_INVALID')
    expect(error.issues.map((i) => i.key).sort()).toEqual(['log.format', 'metrics.enabled', 'server.port'])
    expect(error.message).toContain('config: 3 problems')
    expect(error.message).toMatch(/keel\.yaml:2 server\.port: expected integer 0-65535, got "eighty"/)
    expect(error.message).toMatch(/keel\.yaml:4 metrics\.enabled: expected boolean, got "maybe"/)
    expect(error.message).toMatch(
      /keel\.yaml:6 log\.format: expected one of "auto", "json", "pretty", got "xml"/,
    )
  })

  it('collects problems from different layers and kinds in one error', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  port: -1\n  hots: x\n' })
    const error = loadError({ root, env: { KEEL_SHUTDOWN__DEADLINE_MS: 'soon' } })
    expect(error.code).toBe('KEEL_CONFIG_INVALID')
    expect(error.issues.map((i) => i.key).sort()).toEqual([
      'server.hots',
      'server.port',
      'shutdown.deadlineMs',
    ])
    expect(error.message).toContain('(from env KEEL_SHUTDOWN__DEADLINE_MS)')
  })

  it('says what a nullable key accepts', () => {
    const root = serviceRoot({ 'keel.yaml': 'metrics:\n  port: abc\n' })
    expect(loadError({ root }).message).toMatch(
      /keel\.yaml:2 metrics\.port: expected integer 0-65535 or null, got "abc"/,
    )
  })

  it('names a section given as a scalar', () => {
    const root = serviceRoot({ 'keel.yaml': 'server: 3000\n' })
    const error = loadError({ root })
    expect(error.message).toMatch(/keel\.yaml:1 server: expected object, got 3000/)
  })

  it('never prints the value of a secret key', () => {
    const root = serviceRoot({ 'keel.yaml': 'tracing:\n  headers:\n    authorization: 987654321\n' })
    const error = loadError({ root })
    expect(error.message).toMatch(/keel\.yaml:3 tracing\.headers\.authorization: expected string/)
    expect(error.message).not.toContain('987654321')
  })
})

describe('the config file', () => {
  it('reports bad YAML with the file and line', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  port: 3000\n  host: [1, 2\nlog:\n  level: info\n' })
    const error = loadError({ root })
    expect(error.code).toBe('KEEL_CONFIG_FILE_UNREADABLE')
    expect(error.message).toMatch(/keel\.yaml:\d+: invalid YAML: /)
    expect(error.issues[0]?.message).toMatch(/keel\.yaml:(3|4):/)
  })

  it('reports a duplicated key with its line', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  port: 1\nserver:\n  port: 2\n' })
    const error = loadError({ root })
    expect(error.code).toBe('KEEL_CONFIG_FILE_UNREADABLE')
    expect(error.message).toMatch(/keel\.yaml:3: invalid YAML: Map keys must be unique/)
  })

  it.each([
    ['a list', '- server\n- log\n', 'a list'],
    ['a scalar', 'just text\n', '"just text"'],
  ])('refuses %s at the top level', (_, text, shown) => {
    const error = loadError({ root: serviceRoot({ 'keel.yaml': text }) })
    expect(error.code).toBe('KEEL_CONFIG_FILE_UNREADABLE')
    expect(error.message).toContain(
      `keel.yaml: expected a mapping of sections at the top level, got ${shown}`,
    )
  })

  it('accepts an empty file as "all defaults"', () => {
    const root = serviceRoot({ 'keel.yaml': '# nothing yet\n' })
    const config = load({ root })
    expect(config.file).toBe(join(root, 'keel.yaml'))
    expect(config.values.server.port).toBe(3000)
  })

  it('reports an explicitly named file that does not exist', () => {
    const error = loadError({ root: serviceRoot(), file: 'config/prod.yaml' })
    expect(error.code).toBe('KEEL_CONFIG_FILE_UNREADABLE')
    expect(error.message).toContain('prod.yaml: file not found')
  })

  it('reports a keel.yaml that cannot be read', () => {
    const root = serviceRoot()
    mkdirSync(join(root, 'keel.yaml'))
    const error = loadError({ root })
    expect(error.code).toBe('KEEL_CONFIG_FILE_UNREADABLE')
    expect(error.message).toMatch(/keel\.yaml: cannot read: .*EISDIR/)
  })

  it('reads another file name when asked', () => {
    const root = serviceRoot({ 'service.yaml': 'server:\n  port: 4321\n' })
    const config = load({ root, file: 'service.yaml' })
    expect(config.values.server.port).toBe(4321)
    expect(source(config, 'server.port')).toMatch(/service\.yaml:2$/)
  })

  it('shows a root outside the working directory by its absolute path, not ../..', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  port: 1\n' })
    expect(source(load({ root }), 'server.port')).toBe(`${join(root, 'keel.yaml')}:2`)
  })
})

describe('profiles', () => {
  const yaml = 'profiles:\n  prod:\n    server:\n      port: 80\n  staging:\n    server:\n      port: 81\n'

  it('refuses a KEEL_PROFILE the file does not define, suggesting the closest', () => {
    const error = loadError({ root: serviceRoot({ 'keel.yaml': yaml }), env: { KEEL_PROFILE: 'prdo' } })
    expect(error.code).toBe('KEEL_CONFIG_UNKNOWN_PROFILE')
    expect(error.issues[0]?.source).toEqual({ kind: 'env', name: 'KEEL_PROFILE' })
    expect(error.message).toContain(
      'profile "prdo" is not defined (defined: prod, staging); did you mean "prod"?',
    )
    expect(error.message).toContain('KEEL_PROFILE')
  })

  it('blames no variable when the caller chose the unknown profile', () => {
    const error = loadError({ root: serviceRoot({ 'keel.yaml': yaml }), profile: 'stagin' })
    expect(error.code).toBe('KEEL_CONFIG_UNKNOWN_PROFILE')
    expect(error.issues[0]?.source).toBeUndefined()
    expect(error.message).toContain('did you mean "staging"?')
    expect(error.message).not.toContain('KEEL_PROFILE')
  })

  it('accepts a built-in profile the file does not mention', () => {
    const config = load({ root: serviceRoot({ 'keel.yaml': yaml }), env: { KEEL_PROFILE: 'test' } })
    expect(config.profile).toBe('test')
    expect(config.values.log.level).toBe('warn')
  })

  it('applies a profile only the file defines', () => {
    const config = load({ root: serviceRoot({ 'keel.yaml': yaml }), env: { KEEL_PROFILE: 'staging' } })
    expect(config.values.server.port).toBe(81)
  })

  it('refuses profiles that are not a mapping', () => {
    const error = loadError({ root: serviceRoot({ 'keel.yaml': 'profiles: [prod]\n' }) })
    expect(error.message).toMatch(
      /keel\.yaml:1 profiles: expected a mapping of profile names to sections, got a list/,
    )
  })
})

describe('module config sections', () => {
  const cache = defineConfigSection(
    'cache',
    {
      ttlMs: Type.Integer({ minimum: 0, default: 60_000 }),
      maxEntries: Type.Integer({ minimum: 1, default: 1000 }),
    },
    {
      check: (value) =>
        value.maxEntries > 100_000 ? [{ key: 'maxEntries', message: 'more than 100000 entries' }] : [],
    },
  )

  it('adds a section with defaults, file values and env values', () => {
    const root = serviceRoot({ 'keel.yaml': 'cache:\n  ttlMs: 500\n' })
    const config = load({ root, sections: [cache], env: { KEEL_CACHE__MAX_ENTRIES: '42' } })
    expect(config.values.cache).toEqual({ ttlMs: 500, maxEntries: 42 })
    expect(config.sourceOf('cache.ttlMs')).toMatchObject({ kind: 'file', line: 2 })
    expect(config.sourceOf('cache.maxEntries')).toEqual({ kind: 'env', name: 'KEEL_CACHE__MAX_ENTRIES' })
  })

  it('gives the section its defaults when the file does not mention it', () => {
    const config = load({ root: serviceRoot(), sections: [cache] })
    expect(config.values.cache).toEqual({ ttlMs: 60_000, maxEntries: 1000 })
  })

  it('treats the section as unknown when no module declares it', () => {
    const root = serviceRoot({ 'keel.yaml': 'cache:\n  ttlMs: 500\n' })
    expect(loadError({ root }).message).toMatch(/keel\.yaml:1 cache: unknown section/)
  })

  it('checks the section schema and its own check', () => {
    const root = serviceRoot({ 'keel.yaml': 'cache:\n  ttlMs: -5\n  maxEntriess: 3\n' })
    const error = loadError({ root, sections: [cache] })
    expect(error.message).toMatch(/keel\.yaml:2 cache\.ttlMs: expected integer >= 0, got -5/)
    expect(error.message).toMatch(/keel\.yaml:3 cache\.maxEntriess: unknown key; did you mean "maxEntries"\?/)
    const checked = loadError({
      root: serviceRoot({ 'keel.yaml': 'cache:\n  maxEntries: 200000\n' }),
      sections: [cache],
    })
    expect(checked.message).toMatch(/keel\.yaml:2 cache\.maxEntries: more than 100000 entries/)
  })

  it('refuses two sections with the same name', () => {
    const error = loadError({ root: serviceRoot(), sections: [cache, cache] })
    expect(error.code).toBe('KEEL_CONFIG_SECTION_CONFLICT')
    expect(error.message).toContain('cache: config section is declared twice')
  })

  it('refuses a section that takes a kernel section name', () => {
    const server = defineConfigSection('server', { port: Type.String() })
    const error = loadError({ root: serviceRoot(), sections: [server] })
    expect(error.code).toBe('KEEL_CONFIG_SECTION_CONFLICT')
    expect(error.issues[0]?.key).toBe('server')
  })
})

describe('log.level', () => {
  it('accepts a level with per-module levels', () => {
    const config = load({ root: serviceRoot(), env: { LOG_LEVEL: 'warn,keel:http=debug,orders=trace' } })
    expect(config.values.log.level).toBe('warn,keel:http=debug,orders=trace')
  })

  it('names log.level and the bad module level', () => {
    const root = serviceRoot({ 'keel.yaml': 'log:\n  level: info,keel:http=verbose\n' })
    const error = loadError({ root })
    expect(issueAt(error, 'log.level').source).toMatchObject({ kind: 'file', line: 2 })
    expect(error.message).toMatch(/keel\.yaml:2 log\.level: unknown level "verbose" for module keel:http/)
  })

  it('reports a bad level together with type errors elsewhere', () => {
    const root = serviceRoot({ 'keel.yaml': 'server:\n  port: x\nlog:\n  level: loud\n' })
    const error = loadError({ root })
    expect(error.issues.map((i) => i.key).sort()).toEqual(['log.level', 'server.port'])
  })

  it('refuses a bad redact path, naming it', () => {
    const error = loadError({ root: serviceRoot(), env: { KEEL_LOG__REDACT: 'req.body[' } })
    expect(issueAt(error, 'log.redact').message).toContain('req.body[')
    expect(error.message).toContain('(from env KEEL_LOG__REDACT)')
  })
})
