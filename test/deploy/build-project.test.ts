import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildService } from '../../src/deploy/build/index.ts'
import { isKeelError } from '../../src/errors/index.ts'

const appSource = `import { createApp } from 'keel'
export const app = createApp({ root: process.cwd() })
app.get('/hello', () => ({ hello: 'world' }))
`

/**
 * A service laid out the way users lay it out: package.json and keel.yaml at the root, the app
 * in src/, keel installed in node_modules (a link to this checkout).
 */
async function project(files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'keel-build-project-'))
  await mkdir(join(root, 'node_modules'), { recursive: true })
  await symlink(resolve('.'), join(root, 'node_modules', 'keel'), 'dir')
  const all = {
    'package.json': JSON.stringify({ name: '@acme/orders', version: '1.2.3', type: 'module' }),
    'keel.yaml': 'server:\n  port: 8080\n',
    'src/app.ts': appSource,
    ...files,
  }
  for (const [path, text] of Object.entries(all)) {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), text)
  }
  return root
}

/** The KeelError a build fails with (the test fails when it succeeds or throws anything else). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (error) {
    if (isKeelError(error)) return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('the build succeeded')
}

describe('keel build of a project', () => {
  let root: string
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  describe('that builds', () => {
    beforeEach(async () => {
      root = await project({ 'src/templates/welcome.txt': 'hi', 'assets/logo.svg': '<svg/>' })
    })

    it('names the package after package.json and keeps what the app reads where it looks for it', async () => {
      const report = await buildService({
        entry: 'src/app.ts',
        workingDirectory: root,
        copy: ['src/templates', 'assets'],
      })
      expect(report.out).toBe('dist')
      expect(report.service).toEqual({ name: '@acme/orders', version: '1.2.3' })
      // keel.yaml is not beside the entry: the working directory's is copied.
      expect(report.copied.map((c) => [c.from, c.to])).toEqual([
        ['assets', 'assets'],
        ['keel.yaml', 'keel.yaml'],
        [join('src', 'templates'), 'templates'],
      ])
      expect(await readFile(join(root, 'dist', 'templates', 'welcome.txt'), 'utf8')).toBe('hi')
      const manifest = JSON.parse(await readFile(join(root, 'dist', 'package.json'), 'utf8'))
      expect(manifest.name).toBe('@acme/orders')
      expect(manifest.version).toBe('1.2.3')
    })

    it("prefers keel.yaml's service name and version, as the running app does", async () => {
      await writeFile(join(root, 'keel.yaml'), 'service:\n  name: Orders API\n  version: 2.0.0-rc.1\n')
      const report = await buildService({ entry: 'src/app.ts', workingDirectory: root })
      // "Orders API" is no npm name: it becomes a DNS label.
      expect(report.service).toEqual({ name: 'orders-api', version: '2.0.0-rc.1' })
    })

    it('lists an --external package only when the bundle imports it, at its installed version', async () => {
      await writeFile(
        join(root, 'src/app.ts'),
        `${appSource}import { parse } from 'yaml'\napp.get('/parsed', () => parse('a: 1'))\n`,
      )
      await symlink(resolve('node_modules/yaml'), join(root, 'node_modules', 'yaml'), 'dir')
      const report = await buildService({
        entry: 'src/app.ts',
        workingDirectory: root,
        external: ['yaml', 'left-pad'],
      })
      const yamlVersion = JSON.parse(await readFile('node_modules/yaml/package.json', 'utf8')).version
      expect(report.dependencies.yaml).toBe(yamlVersion)
      expect(report.dependencies).not.toHaveProperty('left-pad')
      const server = await readFile(join(root, 'dist', 'server.mjs'), 'utf8')
      expect(server).toMatch(/from "yaml"/)
    })

    it("writes package-lock.json from the nearest lockfile above the project, taking only the bundle's packages", async () => {
      // A monorepo: the service in services/orders, one lockfile (Keel's own here) at the root.
      const service = join(root, 'services', 'orders')
      await mkdir(join(service, 'src'), { recursive: true })
      await writeFile(join(service, 'src', 'app.ts'), appSource)
      await writeFile(join(service, 'package.json'), JSON.stringify({ name: 'orders', version: '2.0.0' }))
      const keelLock = JSON.parse(await readFile('package-lock.json', 'utf8'))
      await writeFile(join(root, 'package-lock.json'), JSON.stringify(keelLock))

      const report = await buildService({ entry: 'src/app.ts', workingDirectory: service })
      expect(report.hasLockfile).toBe(true)
      expect(report.warnings).toEqual([])
      const lockfile = JSON.parse(await readFile(join(service, 'dist', 'package-lock.json'), 'utf8'))
      const version = keelLock.packages['node_modules/swagger-ui-dist'].version
      expect(report.dependencies).toEqual({ 'swagger-ui-dist': version })
      expect(lockfile.packages['']).toEqual({
        name: 'orders',
        version: '2.0.0',
        dependencies: { 'swagger-ui-dist': version },
      })
      // swagger-ui-dist and the one package it depends on, out of Keel's hundreds.
      expect(Object.keys(lockfile.packages)).toEqual([
        '',
        'node_modules/@scarf/scarf',
        'node_modules/swagger-ui-dist',
      ])
      expect(lockfile.packages['node_modules/@scarf/scarf']).toEqual(
        keelLock.packages['node_modules/@scarf/scarf'],
      )
    })

    it('writes no package-lock.json and says why when the project has no lockfile or it disagrees with node_modules', async () => {
      const none = await buildService({ entry: 'src/app.ts', workingDirectory: root })
      expect(none.hasLockfile).toBe(false)
      expect(none.warnings).toEqual([
        `dist/package-lock.json not written: no package-lock.json in ${root} or a folder above it; npm install --omit=dev there resolves the dependencies of its packages again`,
      ])
      await expect(readFile(join(root, 'dist', 'package-lock.json'))).rejects.toThrow(/ENOENT/)

      const packages = { 'node_modules/swagger-ui-dist': { version: '4.0.0', integrity: 'sha512-x' } }
      await writeFile(join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages }))
      const stale = await buildService({ entry: 'src/app.ts', workingDirectory: root })
      expect(stale.hasLockfile).toBe(false)
      expect(stale.warnings).toEqual([
        `dist/package-lock.json not written: package-lock.json pins swagger-ui-dist 4.0.0, but ${stale.dependencies['swagger-ui-dist']} is installed (run npm install to bring them in line); npm install --omit=dev there resolves the dependencies of its packages again`,
      ])
      await expect(readFile(join(root, 'dist', 'package-lock.json'))).rejects.toThrow(/ENOENT/)
    })

    it('replaces a previous build whole', async () => {
      await buildService({ entry: 'src/app.ts', workingDirectory: root, copy: ['assets'] })
      await buildService({ entry: 'src/app.ts', workingDirectory: root })
      expect((await readdir(join(root, 'dist'))).sort()).toEqual([
        'keel.yaml',
        'package.json',
        'server.mjs',
        'server.mjs.map',
      ])
    })
  })

  describe('that does not build', () => {
    it('names an entry that does not exist', async () => {
      root = await project()
      const error = await failure(buildService({ entry: 'src/missing.ts', workingDirectory: root }))
      expect(error).toEqual({ code: 'KEEL_ENTRY_INVALID', message: '--entry src/missing.ts: file not found' })
      await expect(readdir(join(root, 'dist'))).rejects.toThrow(/ENOENT/)
    })

    it('names the file, line and column of a syntax error', async () => {
      root = await project({
        'src/app.ts': "import { createApp } from 'keel'\nexport const app = createApp(\n",
      })
      const error = await failure(buildService({ entry: 'src/app.ts', workingDirectory: root }))
      expect(error.code).toBe('KEEL_BUILD_FAILED')
      expect(error.message).toMatch(
        /^--entry src\/app\.ts: bundling failed with 1 error:\n {2}src\/app\.ts:3:1: /,
      )
    })

    it('says keel must be installed when the service cannot import it', async () => {
      root = await project()
      await rm(join(root, 'node_modules'), { recursive: true })
      const error = await failure(buildService({ entry: 'src/app.ts', workingDirectory: root }))
      expect(error.message).toBe(
        [
          '--entry src/app.ts: bundling failed with 2 errors:',
          '  src/app.ts:1:27: Could not resolve "keel" (the service must have keel installed: npm install keel)',
          '  src/keel-server-entry.mjs:2:24: Could not resolve "keel" (the service must have keel installed: npm install keel)',
        ].join('\n'),
      )
    })

    it('refuses an --external package the bundle imports but nobody installed', async () => {
      root = await project({ 'src/app.ts': `${appSource}import 'not-installed-here'\n` })
      const error = await failure(
        buildService({ entry: 'src/app.ts', workingDirectory: root, external: ['not-installed-here'] }),
      )
      expect(error.code).toBe('KEEL_BUILD_FAILED')
      expect(error.message).toMatch(/^not-installed-here: the bundle imports it .* but it is not installed/)
    })

    it('names a --copy path that does not exist, is outside the project, or takes a name the build writes', async () => {
      root = await project({ 'src/package.json': '{}' })
      const missing = await failure(
        buildService({ entry: 'src/app.ts', workingDirectory: root, copy: ['nope'] }),
      )
      expect(missing).toEqual({ code: 'KEEL_CLI_USAGE', message: '--copy nope: no such file or folder' })
      const outside = await failure(
        buildService({ entry: 'src/app.ts', workingDirectory: root, copy: [tmpdir()] }),
      )
      expect(outside.code).toBe('KEEL_CLI_USAGE')
      expect(outside.message).toContain(
        `--copy ${tmpdir()}: must be inside the entry's folder or the working directory`,
      )
      const reserved = await failure(
        buildService({ entry: 'src/app.ts', workingDirectory: root, copy: ['src/package.json'] }),
      )
      expect(reserved.message).toBe(
        '--copy src/package.json: would replace package.json, which keel build writes itself',
      )
    })

    it('never empties a folder that holds the sources or files of another kind', async () => {
      root = await project({ 'other/notes.md': 'keep me' })
      const here = await failure(buildService({ entry: 'src/app.ts', workingDirectory: root, out: '.' }))
      expect(here.code).toBe('KEEL_CLI_OUTPUT')
      expect(here.message).toContain('--out .: contains')
      const foreign = await failure(
        buildService({ entry: 'src/app.ts', workingDirectory: root, out: 'other' }),
      )
      expect(foreign.message).toBe(
        '--out other: is not empty and holds no previous build (no server.mjs); empty it or choose another folder',
      )
      expect(await readFile(join(root, 'other/notes.md'), 'utf8')).toBe('keep me')
    })

    it('names an --out folder that cannot be written', async () => {
      root = await project()
      const error = await failure(
        buildService({ entry: 'src/app.ts', workingDirectory: root, out: 'keel.yaml/dist' }),
      )
      expect(error).toEqual({
        code: 'KEEL_CLI_OUTPUT',
        message: '--out keel.yaml/dist: cannot write the build: a parent of it is not a directory',
      })
    })
  })
})
