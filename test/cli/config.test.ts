import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.ts'

const repo = resolve(import.meta.dirname, '../..')

/** A stream that keeps what is written to it. */
class Collected extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

/**
 * Runs `keel <args>` in this process. The command reads process.env as a real run does, so the
 * given variables are set for the call and the previous environment is put back afterwards.
 */
async function keel(args: string[], env: Record<string, string> = {}) {
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  const out = new Collected()
  const err = new Collected()
  try {
    const code = await main(args, out, err)
    return { code, out: out.text, err: err.text }
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

/** Runs the real `keel` bin as a user would, with only the given environment. */
function keelBin(args: string[], env: Record<string, string> = {}) {
  const child = spawnSync(process.execPath, [join(repo, 'bin/keel.mjs'), ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: child.status, out: child.stdout, err: child.stderr }
}

function serviceRoot(yaml: string): string {
  const root = mkdtempSync(join(tmpdir(), 'keel-cli-'))
  writeFileSync(join(root, 'keel.yaml'), yaml)
  return root
}

/** The table row of `key`, split into its three columns. */
function row(table: string, key: string): [string, string, string] {
  const line = table.split('\n').find((l) => l.startsWith(`${key} `))
  if (!line) throw new Error(`no row for ${key} in:\n${table}`)
  const [, value, source] = /^\S+\s+(.*?)\s{2,}(\S.*)$/.exec(line) ?? []
  return [key, value ?? '', source ?? '']
}

const yaml = [
  'service:',
  '  name: orders',
  'server:',
  '  port: 4000',
  'tracing:',
  '  headers:',
  '    authorization: Bearer planted-header-secret',
  'profiles:',
  '  prod:',
  '    server:',
  '      port: 8080',
  '',
].join('\n')

describe('keel config', () => {
  beforeAll(() => {
    // The profile must come from each test, never from the shell that runs the suite.
    delete process.env.KEEL_PROFILE
  })

  it('prints each key with its value and where it came from', async () => {
    const root = serviceRoot(yaml)
    const { code, out, err } = await keel(['config', '--root', root], {
      KEEL_SHUTDOWN__DRAIN_DELAY_MS: '250',
    })
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out).toMatch(/^profile dev, file .*keel\.yaml\n\nKEY\s+VALUE\s+SOURCE\n/)
    expect(row(out, 'server.port')).toEqual(['server.port', '4000', `${join(root, 'keel.yaml')}:4`])
    expect(row(out, 'service.name')[1]).toBe('"orders"')
    expect(row(out, 'shutdown.drainDelayMs')).toEqual([
      'shutdown.drainDelayMs',
      '250',
      'env KEEL_SHUTDOWN__DRAIN_DELAY_MS',
    ])
    expect(row(out, 'server.host')).toEqual(['server.host', '"127.0.0.1"', 'default'])
  })

  it('redacts secrets: URL passwords keep their host, secret fields vanish', async () => {
    const root = serviceRoot(yaml)
    const { code, out } = await keel(['config', '--root', root], {
      DATABASE_URL: 'postgres://app:planted-db-password@db.internal:5432/orders',
    })
    expect(code).toBe(0)
    expect(out).not.toContain('planted-db-password')
    expect(out).not.toContain('planted-header-secret')
    expect(row(out, 'database.url')).toEqual([
      'database.url',
      '"postgres://app:[REDACTED]@db.internal:5432/orders"',
      'env DATABASE_URL',
    ])
    expect(row(out, 'tracing.headers.authorization')[1]).toBe('"[REDACTED]"')
  })

  it('writes machine-readable JSON with --json', async () => {
    const root = serviceRoot(yaml)
    const { code, out } = await keel(['config', '--root', root, '--json'], {
      REDIS_URL: 'redis://:planted-redis-pw@cache:6379',
    })
    expect(code).toBe(0)
    expect(out).not.toContain('planted-redis-pw')
    const parsed = JSON.parse(out) as {
      profile: string
      file: string
      entries: Array<{ key: string; value: unknown; source: string }>
    }
    expect(parsed.profile).toBe('dev')
    expect(parsed.file).toBe(join(root, 'keel.yaml'))
    expect(parsed.entries.find((e) => e.key === 'server.port')).toEqual({
      key: 'server.port',
      value: 4000,
      source: `${join(root, 'keel.yaml')}:4`,
    })
    expect(parsed.entries.find((e) => e.key === 'redis.url')).toEqual({
      key: 'redis.url',
      value: 'redis://:[REDACTED]@cache:6379',
      source: 'env REDIS_URL',
    })
  })

  it('applies a profile with --profile, showing profile sources', async () => {
    const root = serviceRoot(yaml)
    const { code, out } = await keel(['config', '--root', root, '--profile', 'prod'])
    expect(code).toBe(0)
    expect(out).toMatch(/^profile prod,/)
    expect(row(out, 'server.port')).toEqual([
      'server.port',
      '8080',
      `${join(root, 'keel.yaml')}:11 (profile prod)`,
    ])
    expect(row(out, 'server.host')).toEqual(['server.host', '"0.0.0.0"', 'default for profile prod'])
    expect(row(out, 'shutdown.drainDelayMs')[2]).toBe('default for profile prod')
  })

  it('refuses a --profile the file does not define, suggesting the closest', async () => {
    const { code, err } = await keel(['config', '--root', serviceRoot(yaml), '--profile', 'prdo'])
    expect(code).toBe(1)
    expect(err).toContain('profile "prdo" is not defined (defined: prod); did you mean "prod"?')
    expect(err).not.toContain('KEEL_PROFILE')
  })

  it('uses KEEL_PROFILE when --profile is not given', async () => {
    const { out } = await keel(['config', '--root', serviceRoot(yaml)], { KEEL_PROFILE: 'prod' })
    expect(out).toMatch(/^profile prod,/)
  })

  it('checks the app of --entry, including its modules', async () => {
    const { code, out, err } = await keel([
      'config',
      '--entry',
      join(repo, 'examples/hello/app.ts'),
      '--json',
    ])
    expect(err).toBe('')
    expect(code).toBe(0)
    const parsed = JSON.parse(out) as { profile: string; entries: Array<{ key: string; source: string }> }
    expect(parsed.profile).toBe('dev')
    expect(parsed.entries.find((e) => e.key === 'service.name')?.source).toMatch(
      /examples\/hello\/keel\.yaml:\d+$/,
    )
  })

  it('applies --profile to the app of --entry without leaving KEEL_PROFILE behind', async () => {
    const { code, out } = await keel(
      ['config', '--entry', join(repo, 'examples/hello/app.ts'), '--profile', 'prod'],
      { HELLO_ADMIN_KEY: 'planted-admin-key-value' },
    )
    expect(code).toBe(0)
    expect(out).toMatch(/^profile prod,/)
    expect(row(out, 'shutdown.drainDelayMs')[2]).toMatch(/keel\.yaml:\d+ \(profile prod\)$/)
    expect(row(out, 'hello.adminKey')[1]).toBe('"[REDACTED]"')
    expect(out).not.toContain('planted-admin-key-value')
    expect(process.env.KEEL_PROFILE).toBeUndefined()
  })

  it('reports invalid configuration with exit 1, naming each key and its source', async () => {
    const root = serviceRoot('server:\n  port: eighty\nlog:\n  levle: debug\n')
    const { code, out, err } = await keel(['config', '--root', root], { KEEL_METRICS__ENABLED: 'maybe' })
    expect(code).toBe(1)
    expect(out).toBe('')
    expect(err).toContain('keel: config: 3 problems')
    expect(err).toMatch(/keel\.yaml:2 server\.port: expected integer 0-65535, got "eighty"/)
    expect(err).toMatch(/keel\.yaml:4 log\.levle: unknown key; did you mean "level"\?/)
    expect(err).toContain('metrics.enabled: expected boolean, got "maybe" (from env KEEL_METRICS__ENABLED)')
    expect(err).not.toMatch(/\n\s+at /)
  })

  it('reports invalid configuration as JSON with --json', async () => {
    const root = serviceRoot('server:\n  port: eighty\n')
    const { code, out } = await keel(['config', '--root', root, '--json'])
    expect(code).toBe(1)
    const parsed = JSON.parse(out) as { error: string; issues: Array<{ key: string; text: string }> }
    expect(parsed.error).toBe('KEEL_CONFIG_INVALID')
    expect(parsed.issues.map((i) => i.key)).toEqual(['server.port'])
    expect(parsed.issues[0]?.text).toMatch(/keel\.yaml:2 server\.port/)
  })

  it('reports bad YAML with exit 1 and the file line', async () => {
    const root = serviceRoot('server:\n  port: [1,\n')
    const { code, err } = await keel(['config', '--root', root])
    expect(code).toBe(1)
    expect(err).toMatch(/keel\.yaml:\d+: invalid YAML/)
  })

  it('refuses an unknown flag with exit 2, naming it', async () => {
    const { code, out, err } = await keel(['config', '--colour'])
    expect(code).toBe(2)
    expect(out).toBe('')
    expect(err).toContain('--colour')
    expect(err).toContain('unknown flag')
  })

  it('refuses an unknown command with exit 2, naming it', async () => {
    const { code, err } = await keel(['deploy'])
    expect(code).toBe(2)
    expect(err).toContain('unknown command "deploy"')
  })

  it('refuses an --entry file that does not exist with exit 1', async () => {
    const { code, err } = await keel(['config', '--entry', 'no/such/app.ts'])
    expect(code).toBe(1)
    expect(err).toContain('--entry no/such/app.ts: file not found')
  })

  it('prints help for config --help with exit 0', async () => {
    const { code, out } = await keel(['config', '--help'])
    expect(code).toBe(0)
    expect(out).toContain('Usage: keel config [--profile NAME]')
  })
})

describe('the keel bin', () => {
  it('runs keel config --entry on the hello example with --profile prod', () => {
    const { code, out, err } = keelBin(['config', '--entry', 'examples/hello/app.ts', '--profile', 'prod'], {
      DATABASE_URL: 'postgres://hello:planted-bin-password@db:5432/hello',
      HELLO_ADMIN_KEY: 'planted-admin-key-value',
    })
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out).toMatch(/^profile prod,/)
    expect(out).not.toContain('planted-bin-password')
    expect(row(out, 'service.name')).toEqual([
      'service.name',
      '"hello"',
      expect.stringMatching(/keel\.yaml:4$/),
    ])
    expect(row(out, 'shutdown.drainDelayMs')[2]).toMatch(/keel\.yaml:\d+ \(profile prod\)$/)
    expect(row(out, 'database.url')[1]).toBe('"postgres://hello:[REDACTED]@db:5432/hello"')
  })

  it('refuses the hello example in prod without HELLO_ADMIN_KEY, naming the variable and the key', () => {
    const { code, err } = keelBin(['config', '--entry', 'examples/hello/app.ts', '--profile', 'prod'])
    expect(code).toBe(1)
    expect(err).toMatch(/hello\.adminKey: variable HELLO_ADMIN_KEY is not set/)
  })

  it('exits 1 on invalid configuration and 2 on bad arguments', () => {
    const root = serviceRoot('server:\n  port: eighty\n')
    const invalid = keelBin(['config', '--root', root])
    expect(invalid.code).toBe(1)
    expect(invalid.err).toMatch(/server\.port: expected integer 0-65535, got "eighty"/)
    const unknown = keelBin(['config', '--nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('--nope')
  })
})
