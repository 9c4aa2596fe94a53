import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'

describe('keel build', () => {
  let root: string

  beforeAll(async () => {
    // A service outside this checkout, with keel installed as a link to it.
    root = await mkdtemp(join(tmpdir(), 'keel-cli-build-'))
    await mkdir(join(root, 'node_modules'), { recursive: true })
    await symlink(resolve('.'), join(root, 'node_modules', 'keel'), 'dir')
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'greeter', version: '0.3.0' }))
    await writeFile(join(root, 'keel.yaml'), 'server:\n  port: 8080\n')
    await writeFile(
      join(root, 'app.ts'),
      "import { createApp } from 'keel'\nexport const app = createApp({ root: import.meta.dirname })\n",
    )
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('prints its help with every flag and the exit codes', async () => {
    const { code, out } = await runKeel(['build', '--help'])
    expect(code).toBe(0)
    for (const flag of ['--entry FILE', '--out DIR', '--copy PATH', '--external PKG', '--minify', '--json'])
      expect(out).toContain(flag)
    expect(out).toContain(
      'Exit codes: 0 built, 1 the entry does not bundle or the folder cannot be written, 2 bad arguments.',
    )
  })

  it('refuses unknown flags, empty values and bad package names with exit 2, naming them', async () => {
    const unknown = await runKeel(['build', '--output', 'x'])
    expect(unknown).toMatchObject({ code: 2 })
    expect(unknown.err).toContain("unknown flag '--output'")
    const empty = await runKeel(['build', '--out', ''])
    expect(empty).toMatchObject({ code: 2, err: 'keel: --out needs a value\n' })
    const emptyCopy = await runKeel(['build', '--entry', 'app.ts', '--copy', ''])
    expect(emptyCopy).toMatchObject({ code: 2, err: 'keel: --copy needs a value\n' })
    const badName = await runKeel(['build', '--external', 'not a package'])
    expect(badName).toMatchObject({
      code: 2,
      err: 'keel: --external not a package: expected a package name\n',
    })
  })

  it('needs an entry: names a missing one (exit 1) and asks for one when there is no default (exit 2)', async () => {
    const missing = await runKeel(['build', '--entry', 'no/such/app.ts', '--out', join(root, 'never')])
    expect(missing).toMatchObject({ code: 1, err: 'keel: --entry no/such/app.ts: file not found\n' })
    const json = await runKeel(['build', '--entry', 'no/such/app.ts', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.out)).toEqual({
      error: 'KEEL_ENTRY_INVALID',
      message: '--entry no/such/app.ts: file not found',
    })
    // This checkout has no app.ts or src/app.ts at its root.
    const none = await runKeel(['build'])
    expect(none.code).toBe(2)
    expect(none.err).toContain('--entry FILE is needed')
  })

  it('builds and summarises: size, dependencies, copied files and what to run next', async () => {
    const out = join(root, 'dist')
    const { code, out: text, err } = await runKeel(['build', '--entry', join(root, 'app.ts'), '--out', out])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(text).toContain(`built greeter 0.3.0 from ${join(root, 'app.ts')} into ${out}/`)
    expect(text).toMatch(
      / {2}server\.mjs {4}[\d.]+ (KiB|MiB) \(source map server\.mjs\.map [\d.]+ (KiB|MiB)\)/,
    )
    // The docs page of every app serves swagger-ui-dist's files; an app without a database needs no PGlite.
    expect(text).toMatch(/\n {2}dependencies {2}swagger-ui-dist [\d.]+\n/)
    expect(text).toContain('  copied        keel.yaml\n')
    // This project has no package-lock.json: the build says so, and npm must resolve again.
    expect(text).toContain(`  warning       ${out}/package-lock.json not written: no package-lock.json in`)
    expect(text).toContain(
      `next: cd ${out} && npm install --omit=dev && node --enable-source-maps server.mjs`,
    )
    expect(text).not.toContain('\x1b[')
  })

  it('gives the summary as JSON for CI', async () => {
    const out = join(root, 'dist-json')
    const { code, out: text } = await runKeel([
      'build',
      '--entry',
      join(root, 'app.ts'),
      '--out',
      out,
      '--json',
    ])
    expect(code).toBe(0)
    const report = JSON.parse(text)
    expect(report).toMatchObject({
      out,
      service: { name: 'greeter', version: '0.3.0' },
      server: { file: 'server.mjs' },
      copied: [{ to: 'keel.yaml', kind: 'file', files: 1 }],
      hasLockfile: false,
      warnings: [expect.stringContaining(`${out}/package-lock.json not written: no package-lock.json in`)],
    })
    expect(report.server.sizeBytes).toBeGreaterThan(100_000)
    const manifest = JSON.parse(await readFile(join(out, 'package.json'), 'utf8'))
    expect(manifest.dependencies).toEqual(report.dependencies)
  })

  it('writes the lockfile and says npm ci when the project has one', async () => {
    // Keel's own lockfile pins the packages this project reaches through its keel link.
    await copyFile(resolve('package-lock.json'), join(root, 'package-lock.json'))
    try {
      const out = join(root, 'dist-locked')
      const { code, out: text } = await runKeel(['build', '--entry', join(root, 'app.ts'), '--out', out])
      expect(code).toBe(0)
      expect(text).not.toContain('warning')
      expect(text).toContain(`next: cd ${out} && npm ci --omit=dev && node --enable-source-maps server.mjs`)
      const lock = JSON.parse(await readFile(join(out, 'package-lock.json'), 'utf8'))
      expect(lock.packages['node_modules/swagger-ui-dist']).toMatchObject({ integrity: expect.any(String) })
    } finally {
      await rm(join(root, 'package-lock.json'))
    }
  })
})
