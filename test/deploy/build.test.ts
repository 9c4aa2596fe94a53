import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuildReport, buildService } from '../../src/deploy/build/index.ts'

const run = promisify(execFile)

/** What the tests read of a package-lock.json. */
interface ProjectLock {
  packages: Record<
    string,
    { version?: string; integrity?: string; optional?: boolean; [field: string]: unknown }
  >
}

/** The version installed in this repository, which the build must write down exactly. */
async function installedVersion(name: string): Promise<string> {
  const manifest = await readFile(join('node_modules', name, 'package.json'), 'utf8')
  return (JSON.parse(manifest) as { version: string }).version
}

/** The environment of a production start: nothing of this test process's Keel or loader settings. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(KEEL_|NODE_OPTIONS|VITEST|DATABASE_URL|REDIS_URL|NATS_URL|TODO_)/.test(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

/** Waits (at most `timeoutMs`) for the child to print `listening on <url>`; its url. */
function listeningUrl(child: ChildProcess, output: { text: string }, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`no "listening on" line within ${timeoutMs} ms; output:\n${output.text}`))
    }, timeoutMs)
    const onData = () => {
      const match = /listening on (http:\/\/[0-9.]+:\d+)/.exec(output.text)
      if (match) {
        cleanup()
        resolve(match[1]!)
      }
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`server.mjs exited with ${code} before listening; output:\n${output.text}`))
    }
    const cleanup = () => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
    }
    child.stdout?.on('data', onData)
    child.on('exit', onExit)
  })
}

/** Waits (at most `timeoutMs`) for the child to exit; its exit code, or undefined on timeout. */
function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | null | undefined> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

/** Starts `node server.mjs` in `directory`, collecting its output. */
function startServer(directory: string, env: Record<string, string>) {
  const output = { text: '' }
  const child = spawn(process.execPath, ['--enable-source-maps', 'server.mjs'], {
    cwd: directory,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (chunk: Buffer) => {
    output.text += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output.text += chunk.toString()
  })
  return { child, output }
}

describe('keel build of examples/todo', () => {
  let root: string
  let built: string
  let moved: string
  let report: BuildReport
  const children: ChildProcess[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'keel-build-'))
    built = join(root, 'built')
    moved = join(root, 'elsewhere', 'service')
    report = await buildService({ entry: 'examples/todo/app.ts', out: built })
  })

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await rm(root, { recursive: true, force: true })
  })

  it('writes server.mjs with its source map, the files the app reads, and package.json', async () => {
    const files = (await readdir(built)).sort()
    expect(files).toEqual([
      // The inspector's web UI: Keel's own files the bundle serves from beside it.
      'inspector-ui',
      'keel.yaml',
      'migrations',
      'package-lock.json',
      'package.json',
      'resources',
      'server.mjs',
      'server.mjs.map',
    ])
    expect((await readdir(join(built, 'migrations'))).sort()).toEqual(
      (await readdir('examples/todo/migrations')).sort(),
    )
    expect(await readFile(join(built, 'keel.yaml'), 'utf8')).toBe(
      await readFile('examples/todo/keel.yaml', 'utf8'),
    )
    const server = await readFile(join(built, 'server.mjs'), 'utf8')
    expect(server).toContain('//# sourceMappingURL=server.mjs.map')
    // Keel itself is in the bundle, from source: nothing imports the keel package at run time.
    expect(server).not.toMatch(/from ["']keel(\/[a-z]+)?["']/)
    expect(report.copied.map((c) => `${c.to}:${c.kind}:${c.files}`)).toEqual([
      'keel.yaml:file:1',
      'migrations:folder:3',
      'resources:folder:2',
    ])
  })

  it('lists in package.json exactly the packages the bundle loads at run time, at their installed versions', async () => {
    const manifest = JSON.parse(await readFile(join(built, 'package.json'), 'utf8'))
    expect(manifest).toEqual({
      name: 'todo',
      // keel.yaml names the service but gives no version: the working directory's package.json does.
      version: JSON.parse(await readFile('package.json', 'utf8')).version,
      private: true,
      type: 'module',
      scripts: { start: 'node server.mjs' },
      dependencies: {
        '@electric-sql/pglite': await installedVersion('@electric-sql/pglite'),
        htm: await installedVersion('htm'),
        'pg-boss': await installedVersion('pg-boss'),
        preact: await installedVersion('preact'),
        'swagger-ui-dist': await installedVersion('swagger-ui-dist'),
      },
    })
    expect(report.dependencies).toEqual(manifest.dependencies)
    // ws tries these native helpers inside a try: optional, and not installed here.
    expect(report.optional).toEqual(['bufferutil', 'utf-8-validate'])
  })

  it("writes package-lock.json: the project lockfile's entries of those packages and of their dependencies", async () => {
    const lockfile = JSON.parse(await readFile(join(built, 'package-lock.json'), 'utf8')) as ProjectLock
    const project = JSON.parse(await readFile('package-lock.json', 'utf8')) as ProjectLock
    const manifest = JSON.parse(await readFile(join(built, 'package.json'), 'utf8'))
    expect(report.hasLockfile).toBe(true)
    expect(report.warnings).toEqual([])
    expect(lockfile).toMatchObject({ name: 'todo', version: manifest.version, lockfileVersion: 3 })
    expect(lockfile.packages['']).toEqual({
      name: 'todo',
      version: manifest.version,
      dependencies: manifest.dependencies,
    })
    for (const [name, version] of Object.entries(manifest.dependencies))
      expect(lockfile.packages[`node_modules/${name}`]?.version).toBe(version)

    // pg-boss's dependencies, at the versions and with the integrity the project pinned.
    const needs = Object.keys(project.packages['node_modules/pg-boss']!.dependencies ?? {})
    expect(needs).toEqual(expect.arrayContaining(['cron-parser', 'pg', 'serialize-error']))
    for (const name of needs) {
      const key = [`node_modules/pg-boss/node_modules/${name}`, `node_modules/${name}`].find(
        (path) => project.packages[path],
      )!
      expect(lockfile.packages[key]?.integrity).toMatch(/^sha512-/)
      expect(lockfile.packages[key]).toMatchObject({
        version: project.packages[key]!.version,
        integrity: project.packages[key]!.integrity,
      })
    }
    // pg's optional pg-cloudflare stays optional.
    expect(lockfile.packages['node_modules/pg-cloudflare']).toMatchObject({ optional: true })

    // Each entry is the project's, less how the project used it (Keel has pg-boss as a dev tool).
    for (const [key, entry] of Object.entries(lockfile.packages)) {
      if (key === '') continue
      const { dev, devOptional, peer, optional, ...rest } = project.packages[key]!
      expect(entry).toEqual(entry.optional ? { ...rest, optional: true } : rest)
    }
    // Nothing of the project's other packages.
    expect(lockfile.packages).not.toHaveProperty(['node_modules/esbuild'])
    expect(lockfile.packages).not.toHaveProperty(['node_modules/vitest'])
    expect(Object.keys(lockfile.packages).length).toBeLessThan(Object.keys(project.packages).length / 5)
  })

  it('does not start without its node_modules: the listed packages are really needed', async () => {
    const { child, output } = startServer(built, { PORT: '0', TODO_DATA_DIR: join(root, 'data-none') })
    children.push(child)
    expect(await exitCode(child, 20_000)).toBe(1)
    expect(output.text).toContain("Cannot find package '@electric-sql/pglite'")
  })

  it('runs elsewhere with node server.mjs after npm ci installs its production dependencies', async () => {
    await cp(built, moved, { recursive: true })
    // From the local npm cache only (npm ci filled it with tarballs): --offline never reaches the
    // registry, and with the lockfile npm needs no registry metadata.
    await run('npm', ['ci', '--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: moved,
      timeout: 60_000,
    })
    const installed = (await readdir(join(moved, 'node_modules'))).filter((name) => !name.startsWith('.'))
    expect(installed).toEqual(expect.arrayContaining(['@electric-sql', 'pg-boss', 'swagger-ui-dist']))
    expect(installed).not.toContain('keel')
    // Exactly what the lockfile pins, where it pins it (optional packages may skip this platform).
    const lockfile = JSON.parse(await readFile(join(moved, 'package-lock.json'), 'utf8')) as ProjectLock
    for (const [key, entry] of Object.entries(lockfile.packages)) {
      if (key === '' || entry.optional) continue
      const manifest = JSON.parse(await readFile(join(moved, key, 'package.json'), 'utf8'))
      expect(`${key} ${manifest.version}`).toBe(`${key} ${entry.version}`)
    }

    const { child, output } = startServer(moved, { PORT: '0', TODO_DATA_DIR: join(root, 'data') })
    children.push(child)
    const url = await listeningUrl(child, output, 30_000)

    expect((await fetch(`${url}/ready`)).status).toBe(200)
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      info: { title: string }
      paths: Record<string, unknown>
    }
    expect(document.info.title).toBe('todo')
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/todos', '/auth/register']))

    const account = { email: 'built@example.com', password: 'correct horse battery staple' }
    const json = { 'content-type': 'application/json' }
    const registered = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(account),
    })
    expect(registered.status).toBe(201)
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(account),
    })
    expect(login.status).toBe(200)
    const { accessToken } = (await login.json()) as { accessToken: string }
    const auth = { ...json, authorization: `Bearer ${accessToken}` }
    const created = await fetch(`${url}/v1/todos`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ title: 'ship the bundle' }),
    })
    expect(created.status).toBe(201)
    const list = (await (await fetch(`${url}/v1/todos`, { headers: auth })).json()) as {
      items: Array<{ title: string }>
    }
    expect(list.items.map((todo) => todo.title)).toEqual(['ship the bundle'])

    // The docs page serves swagger-ui-dist's own files from dist/node_modules.
    const page = await (await fetch(`${url}/docs`)).text()
    const stylesheet = /href="([^"]*swagger-ui\.css[^"]*)"/.exec(page)?.[1]?.replaceAll('&amp;', '&')
    expect(stylesheet).toBeDefined()
    const css = await fetch(`${url}${stylesheet}`)
    expect(css.status).toBe(200)
    expect(await css.text()).toContain('.swagger-ui')

    // The inspector's UI: Keel's own files, copied beside the bundle, and preact from node_modules.
    const ui = await fetch(`${url}/_keel/inspector/ui/app.js`)
    expect(ui.status).toBe(200)
    expect(ui.headers.get('content-type')).toMatch(/^text\/javascript/)
    const inspectorPage = await (await fetch(`${url}/_keel/inspector/`)).text()
    const preact = /"preact":"([^"]+)"/.exec(inspectorPage)?.[1]
    expect(preact).toBeDefined()
    expect((await fetch(`${url}${preact}`)).status).toBe(200)

    // SIGTERM reaches runApp: a graceful shutdown and exit code 0.
    child.kill('SIGTERM')
    expect(await exitCode(child, 20_000)).toBe(0)
    expect(output.text).toContain('"msg":"shutdown finished"')
  }, 90_000)
})
