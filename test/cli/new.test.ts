import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'
import { cleanEnv, httpGet, ServiceProcess, waitForReady } from '../support/service-process.ts'

const repo = resolve('.')
const keelBin = join(repo, 'bin/keel.mjs')
const work = mkdtempSync(join(tmpdir(), 'keel-new-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Runs the keel command in `cwd` as a user's npm script would, in a process of its own. */
function keel(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [keelBin, ...args], {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: result.status, out: result.stdout, err: result.stderr }
}

/**
 * Makes `keel` and `tsx` resolvable in a scaffold without the network: symlinks into this
 * checkout, as `npm install` would place the packages. The checkout has no dist/, so everything
 * runs with the `source` export condition; a published keel resolves to dist/ instead.
 */
function linkDependencies(dir: string): void {
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(repo, join(dir, 'node_modules/keel'), 'dir')
  symlinkSync(join(repo, 'node_modules/tsx'), join(dir, 'node_modules/tsx'), 'dir')
}

describe('keel new', () => {
  it('prints its help with the exit codes', async () => {
    const { code, out } = await runKeel(['new', '--help'])
    expect(code).toBe(0)
    expect(out).toContain('Usage: keel new <name> [--dir DIR] [--json]')
    expect(out).toContain('Exit codes: 0 written, 1 the directory is not empty')
  })

  it('scaffolds a service that starts, answers its typed route, tests, documents and checks itself', async () => {
    const dir = join(work, 'greeter')
    const created = await runKeel(['new', 'greeter', '--dir', dir])
    expect(created.err).toBe('')
    expect(created.code).toBe(0)
    expect(created.out).toContain('created greeter in ')
    for (const file of [
      'package.json',
      'keel.yaml',
      'app.ts',
      'main.ts',
      'app.test.ts',
      'tsconfig.json',
      '.gitignore',
      'README.md',
    ])
      expect(existsSync(join(dir, file)), file).toBe(true)

    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    const keelManifest = JSON.parse(readFileSync('package.json', 'utf8'))
    expect(manifest).toMatchObject({
      name: 'greeter',
      type: 'module',
      private: true,
      scripts: {
        start: 'node --import tsx main.ts',
        test: 'node --import tsx --test app.test.ts',
        check: 'keel check --profile prod',
      },
      dependencies: { keel: `^${keelManifest.version}`, tsx: `^${keelManifest.dependencies.tsx}` },
    })
    const yaml = readFileSync(join(dir, 'keel.yaml'), 'utf8')
    expect(yaml).toContain('  name: greeter\n')
    expect(yaml).toContain('adminKey: ${GREETER_ADMIN_KEY}\n')

    linkDependencies(dir)
    // What `npm start` runs, with the source condition this checkout needs and an ephemeral port.
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'main.ts'], {
      cwd: dir,
      env: { ...cleanEnv(), PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const service = new ServiceProcess(child)
    try {
      const listening = await service.waitForRecord(
        (r) => typeof r.url === 'string' && r.msg?.startsWith('listening') === true,
        60_000,
      )
      const port = Number(new URL(listening.url as string).port)
      await waitForReady(service, port, 60_000)
      const hello = await httpGet(port, '/hello/Ada')
      expect(hello.status).toBe(200)
      expect(JSON.parse(hello.body)).toEqual({ hello: 'Ada' })
      const invalid = await httpGet(port, `/hello/${'a'.repeat(65)}`)
      expect(invalid.status).toBe(400)
      expect(invalid.headers['content-type']).toBe('application/problem+json')
      // The dev key of keel.yaml opens the admin group.
      const stats = await httpGet(port, '/admin/stats', { headers: { 'x-api-key': 'dev-only-admin-key' } })
      expect(stats.status).toBe(200)
      expect(JSON.parse(stats.body)).toEqual({ greetings: 1 })
      expect((await httpGet(port, '/admin/stats')).status).toBe(401)
    } finally {
      service.signal('SIGTERM')
      await service.waitForExit(10_000).catch(() => service.kill())
    }
    expect(service.exit?.code).toBe(0)

    // npm test
    const tests = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--test', 'app.test.ts'],
      {
        cwd: dir,
        env: cleanEnv(),
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    expect(tests.stdout).toContain('# pass 2')
    expect(tests.status).toBe(0)

    const openapi = keel(['openapi', '--out', 'openapi.json'], dir)
    expect(openapi.err).toBe('')
    expect(openapi.code).toBe(0)
    const document = JSON.parse(readFileSync(join(dir, 'openapi.json'), 'utf8'))
    expect(document.info.title).toBe('greeter')
    expect(
      document.paths['/hello/{name}'].get.responses['200'].content['application/json'].schema,
    ).toMatchObject({
      type: 'object',
      properties: { hello: { type: 'string' } },
    })

    const check = keel(['check', '--profile', 'prod', '--json'], dir)
    expect(check.err).toBe('')
    expect(check.code).toBe(0)
    const report = JSON.parse(check.out) as { items: Array<{ id: string; status: string }>; summary: unknown }
    expect(Object.fromEntries(report.items.map((i) => [i.id, i.status]))).toEqual({
      secrets: 'pass',
      'database-tls': 'skip',
      'database-url': 'skip',
      migrations: 'skip',
      probes: 'pass',
      // Deploy choices the scaffold leaves to its owner (commented out in keel.yaml).
      resources: 'warn',
      'shutdown-deadline': 'pass',
      'drain-delay': 'pass',
      'server-host': 'pass',
      cors: 'pass',
      'rate-limits': 'pass',
      inspector: 'skip',
      'log-format': 'pass',
      tracing: 'warn',
      metrics: 'pass',
    })
    expect(report.summary).toEqual({ pass: 9, warn: 2, fail: 0, skip: 4 })
  }, 90_000)

  it('answers --json with the name, the directory and the files; a scope stays in package.json', async () => {
    const parent = join(work, 'scoped')
    mkdirSync(parent)
    const dir = join(parent, 'billing')
    const { code, out } = await runKeel(['new', '@acme/billing', '--dir', dir, '--json'])
    expect(code).toBe(0)
    expect(JSON.parse(out)).toEqual({
      name: '@acme/billing',
      dir,
      files: [
        'package.json',
        'keel.yaml',
        'app.ts',
        'main.ts',
        'app.test.ts',
        'tsconfig.json',
        '.gitignore',
        'README.md',
      ],
    })
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('@acme/billing')
    expect(readFileSync(join(dir, 'keel.yaml'), 'utf8')).toContain('  name: billing\n')
  })

  it('writes into ./<name without scope> by default and says how to go on', () => {
    const { code, out, err } = keel(['new', '@acme/orders'], work)
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out).toContain('created @acme/orders in orders:')
    expect(out).toContain('  cd orders\n  npm install\n  npm start')
    expect(JSON.parse(readFileSync(join(work, 'orders/package.json'), 'utf8')).name).toBe('@acme/orders')
  })

  it('keeps a service named like a Keel section out of that section', async () => {
    const dir = join(work, 'metrics')
    expect((await runKeel(['new', 'metrics', '--dir', dir])).code).toBe(0)
    expect(readFileSync(join(dir, 'keel.yaml'), 'utf8')).toContain('\nmetricsService:\n')
    expect(readFileSync(join(dir, 'app.ts'), 'utf8')).toContain("defineConfigSection('metricsService'")
  })

  it('refuses names that are not npm package names and DNS labels, with exit 2', async () => {
    const cases: Array<[string, string]> = [
      ['My_Service', 'use lower-case letters, digits and dashes'],
      ['9lives', 'starting with a letter'],
      ['api-', 'not ending with a dash'],
      ['http', 'is a Node.js built-in module'],
      ['a'.repeat(64), 'at most 63 characters'],
      ['@Acme/billing', 'a scoped name is @scope/name'],
      ['a/b/c', 'a scoped name is @scope/name'],
    ]
    for (const [name, why] of cases) {
      const { code, err } = await runKeel(['new', name, '--dir', join(work, 'never')])
      expect(code, name).toBe(2)
      expect(err, name).toContain(`name "${name}": `)
      expect(err, name).toContain(why)
    }
    expect(existsSync(join(work, 'never'))).toBe(false)
    const none = await runKeel(['new'])
    expect(none.code).toBe(2)
    expect(none.err).toContain('keel new needs a name: keel new my-service')
    const two = await runKeel(['new', 'a', 'b'])
    expect(two.code).toBe(2)
    expect(two.err).toContain('keel new takes one name, got 2: a b')
  })

  it('refuses a non-empty directory and a file, with exit 1, writing nothing', async () => {
    const dir = join(work, 'busy')
    mkdirSync(dir)
    writeFileSync(join(dir, 'notes.txt'), 'mine\n')
    const busy = await runKeel(['new', 'busy', '--dir', dir])
    expect(busy.code).toBe(1)
    expect(busy.err).toContain(`keel: ${dir} is not empty (notes.txt): choose a new directory with --dir`)
    expect(existsSync(join(dir, 'package.json'))).toBe(false)
    const file = join(work, 'a-file')
    writeFileSync(file, '')
    const onFile = await runKeel(['new', 'busy', '--dir', file, '--json'])
    expect(onFile.code).toBe(1)
    expect(JSON.parse(onFile.out)).toEqual({
      error: 'KEEL_CLI_OUTPUT',
      message: `--dir ${file}: is a file, not a directory`,
    })
  })
})
