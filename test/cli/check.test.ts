import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkCommand } from '../../src/cli/commands/check.ts'
import { runKeel } from '../support/cli.ts'

const ready = 'test/deploy/fixtures/check-ready/app.ts'
const flawed = 'test/deploy/fixtures/check-flawed/app.ts'

interface JsonReport {
  profile: string
  service: string
  items: Array<{ id: string; status: string; message: string; hint: string | null }>
  summary: Record<string, number>
}

describe('keel check', () => {
  const savedDatabaseUrl = process.env.DATABASE_URL
  beforeEach(() => {
    // A DATABASE_URL in the test runner's environment would make the migrations item connect.
    delete process.env.DATABASE_URL
  })
  afterEach(() => {
    if (savedDatabaseUrl !== undefined) process.env.DATABASE_URL = savedDatabaseUrl
  })

  it('prints its help with every item and the exit codes', async () => {
    const { code, out } = await runKeel(['check', '--help'])
    expect(code).toBe(0)
    for (const id of [
      'secrets',
      'database-tls',
      'migrations',
      'resources',
      'shutdown-deadline',
      'cors',
      'inspector',
    ])
      expect(out).toContain(id)
    expect(out).toContain('Exit codes: 0 no item failed')
  })

  it('refuses unknown flags, empty values and a database URL that is not PostgreSQL, with exit 2', async () => {
    const unknown = await runKeel(['check', '--entry', ready, '--stric'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain("unknown flag '--stric'")
    const empty = await runKeel(['check', '--profile', ''])
    expect(empty.code).toBe(2)
    expect(empty.err).toContain('--profile needs a value')
    const url = await runKeel(['check', '--entry', ready, '--database-url', 'mysql://db/app'])
    expect(url.code).toBe(2)
    expect(url.err).toContain('--database-url: expected a postgres:// or postgresql:// URL')
  })

  it('names an entry that does not exist and a profile keel.yaml does not define', async () => {
    const missing = await runKeel(['check', '--entry', 'no/such/app.ts'])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('--entry no/such/app.ts: file not found')
    const typo = await runKeel(['check', '--entry', 'examples/hello/app.ts', '--profile', 'prdo'])
    expect(typo.code).toBe(1)
    expect(typo.err).toContain('profile "prdo" is not defined')
  })

  it('exits 0 for a ready service, with the table and the counts', async () => {
    const { code, out } = await runKeel(['check', '--entry', ready])
    expect(code).toBe(0)
    expect(out).toContain(`keel check: ready, profile prod (${ready})`)
    expect(out).toMatch(/^pass {2}cors {15}explicit origins only: https:\/\/app\.example\.com$/m)
    expect(out).toMatch(/^warn {2}migrations {9}not checked: no database URL$/m)
    expect(out).toMatch(/^ +fix: pass --database-url URL/m)
    expect(out).toMatch(/^skip {2}inspector {10}no inspector in this app$/m)
    expect(out).toContain('13 pass, 1 warn, 0 fail, 1 skip')
    // No colour outside a terminal.
    expect(out).not.toContain('\x1b[')
  })

  it('fails on warnings with --strict', async () => {
    const { code, out } = await runKeel(['check', '--entry', ready, '--strict'])
    expect(code).toBe(1)
    expect(out).toContain('13 pass, 1 warn, 0 fail, 1 skip')
  })

  it('answers --json with every item, a hint only where one applies, and the summary', async () => {
    const { code, out } = await runKeel(['check', '--entry', ready, '--json'])
    expect(code).toBe(0)
    const report = JSON.parse(out) as JsonReport
    expect(report.profile).toBe('prod')
    expect(report.service).toBe('ready')
    expect(report.summary).toEqual({ pass: 13, warn: 1, fail: 0, skip: 1 })
    expect(report.items).toHaveLength(15)
    expect(report.items[0]).toEqual({
      id: 'secrets',
      status: 'pass',
      message: '2 secrets from ${VAR} references: database.url, ready.adminKey',
      hint: null,
    })
    const migrations = report.items.find((i) => i.id === 'migrations')
    expect(migrations?.hint).toContain('--database-url')
  })

  it('exits 1 for the flawed fixture, naming file:line of the literal secret', async () => {
    const { code, out } = await runKeel(['check', '--entry', flawed])
    expect(code).toBe(1)
    expect(out).toMatch(
      /^fail {2}secrets {12}literal secret value in profile prod: flawed\.apiToken at test\/deploy\/fixtures\/check-flawed\/keel\.yaml:9 \(profile prod\)$/m,
    )
    expect(out).toMatch(/^fail {2}resources {10}a request exceeds its limit: cpu 2 > cpuLimit 500m/m)
    expect(out).toMatch(
      /^fail {2}shutdown-deadline {2}shutdown\.deadlineMs 30000, terminationGracePeriodSeconds 20/m,
    )
    expect(out).toContain('3 pass, 6 warn, 5 fail, 1 skip')
  })

  it('fails the CORS item of a guard answering any origin with credentials', async () => {
    const { code, out } = await runKeel([
      'check',
      '--entry',
      'test/deploy/fixtures/check-cors-credentials/app.ts',
    ])
    expect(code).toBe(1)
    expect(out).toMatch(/^fail {2}cors {15}app: origins "\*" with credentials: true$/m)
  })

  it("fails an app whose cors({ origins: ['*'], credentials: true }) Keel refuses as it loads", async () => {
    const { code, out, err } = await runKeel([
      'check',
      '--entry',
      'test/deploy/fixtures/check-cors-list-wildcard/app.ts',
    ])
    expect(code).toBe(1)
    expect(out).toBe('')
    expect(err).toContain('cors: options.origins[0] is "*" inside a list')
  })

  it('colours the statuses on a terminal only', async () => {
    const { text } = await checkCommand(['--entry', ready], true)
    expect(text).toContain('\x1b[32mpass\x1b[39m')
    expect(text).toContain('\x1b[33mwarn\x1b[39m')
  })

  it('judges the todo example item by item', async () => {
    const { code, out } = await runKeel(['check', '--entry', 'examples/todo/app.ts', '--json'])
    expect(code).toBe(0)
    const report = JSON.parse(out) as JsonReport
    expect(Object.fromEntries(report.items.map((i) => [i.id, [i.status, i.message]]))).toEqual({
      secrets: ['pass', '3 secrets from ${VAR} references: database.url, todo.adminKey, todo.jwtSecret'],
      'database-tls': [
        'pass',
        'sslmode verify-full (data.sslmode): encrypted, certificate and host name checked',
      ],
      // keel.yaml's prod profile reads it from the environment (${DATABASE_URL}).
      'database-url': ['pass', 'database.url from env DATABASE_URL'],
      migrations: ['warn', 'not checked: no database URL'],
      probes: ['pass', 'live /live, ready /ready, startup /startup (built in)'],
      resources: [
        'warn',
        'deploy.resources is all defaults (requests cpu 250m, memory 256Mi; limits cpu 1, memory 512Mi): nobody sized this service',
      ],
      'shutdown-deadline': [
        'pass',
        'shutdown.deadlineMs 25000, terminationGracePeriodSeconds 35 less the 5 s preStop wait: 5 s margin',
      ],
      'drain-delay': ['pass', 'shutdown.drainDelayMs 5000'],
      'server-host': ['pass', 'server.host 0.0.0.0'],
      cors: ['pass', 'no cors guard: browsers on other origins cannot read responses'],
      'rate-limits': ['pass', 'an app-wide rateLimit guard covers every route (3 public)'],
      inspector: ['pass', 'the inspector is off in profile prod'],
      'log-format': ['pass', 'log.format json, log.level info'],
      tracing: ['warn', 'tracing is off: no spans for requests, flows or jobs'],
      metrics: ['pass', 'metrics at /metrics on port 3000'],
    })
    expect(report.summary).toEqual({ pass: 12, warn: 3, fail: 0, skip: 0 })
  })
})
