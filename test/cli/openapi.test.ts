import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { Validator } from '@seriousme/openapi-schema-validator'
import { openApiDocument } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.ts'
import { app as shop } from '../http/openapi/fixtures/app.ts'

const repo = resolve(import.meta.dirname, '../..')
const entry = 'test/http/openapi/fixtures/app.ts'

class Collected extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

async function keel(args: string[]) {
  const out = new Collected()
  const err = new Collected()
  const code = await main(args, out, err)
  return { code, out: out.text, err: err.text }
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'keel-openapi-'))

describe('keel openapi', () => {
  it('writes the document as pretty JSON with a trailing newline to --out', async () => {
    const file = join(tempDir(), 'nested', 'openapi.json')
    const { code, out, err } = await keel(['openapi', '--entry', entry, '--out', file])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out).toBe(`wrote ${file}: 5 paths, 7 operations\n`)
    const text = readFileSync(file, 'utf8')
    expect(text).toBe(`${JSON.stringify(openApiDocument(shop.describe()), null, 2)}\n`)
    expect(JSON.parse(text).info).toEqual({ title: 'shop', version: '1.2.3' })
    expect((await new Validator().validate(JSON.parse(text))).valid).toBe(true)
  })

  it('writes the same bytes every time', async () => {
    const dir = tempDir()
    await keel(['openapi', '--entry', entry, '--out', join(dir, 'a.json')])
    await keel(['openapi', '--entry', entry, '--out', join(dir, 'b.json')])
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(readFileSync(join(dir, 'b.json'), 'utf8'))
  })

  it('prints the document without --out, and a JSON report with --json', async () => {
    const printed = await keel(['openapi', '--entry', entry])
    expect(printed.code).toBe(0)
    expect(JSON.parse(printed.out).openapi).toBe('3.1.0')
    expect(printed.out.endsWith('}\n')).toBe(true)
    const file = join(tempDir(), 'openapi.json')
    const reported = await keel(['openapi', '--entry', entry, '--out', file, '--json'])
    expect(JSON.parse(reported.out)).toEqual({ file, paths: 5, operations: 7 })
  })

  it('includes internal routes with --include-internal', async () => {
    const { out } = await keel(['openapi', '--entry', entry, '--include-internal'])
    expect(Object.keys(JSON.parse(out).paths)).toEqual(expect.arrayContaining(['/live', '/openapi.json']))
  })

  it('fails with exit 1 naming an --entry that does not exist', async () => {
    const { code, out, err } = await keel(['openapi', '--entry', 'no/such/app.ts'])
    expect(code).toBe(1)
    expect(out).toBe('')
    expect(err).toBe('keel: --entry no/such/app.ts: file not found\n')
    const json = await keel(['openapi', '--entry', 'no/such/app.ts', '--json'])
    expect(JSON.parse(json.out)).toEqual({
      error: 'KEEL_ENTRY_INVALID',
      message: '--entry no/such/app.ts: file not found',
    })
  })

  it('fails with exit 1 on an --entry that exports no app', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'app.mjs'), 'export const notAnApp = 1\n')
    const { code, err } = await keel(['openapi', '--entry', join(dir, 'app.mjs')])
    expect(code).toBe(1)
    expect(err).toContain('exports neither `app` nor a default app')
  })

  it('fails with exit 1 naming an --out it cannot write', async () => {
    const blocker = join(tempDir(), 'a-file')
    writeFileSync(blocker, '')
    const { code, err } = await keel(['openapi', '--entry', entry, '--out', join(blocker, 'openapi.json')])
    expect(code).toBe(1)
    expect(err).toBe(
      `keel: --out ${join(blocker, 'openapi.json')}: cannot write the document: a parent of it is not a directory\n`,
    )
    const dir = await keel(['openapi', '--entry', entry, '--out', tempDir()])
    expect(dir.code).toBe(1)
    expect(dir.err).toContain('cannot write the document: it is a directory')
  })

  it('exits 2 on bad arguments', async () => {
    expect(await keel(['openapi', '--entry', entry, '--bogus'])).toMatchObject({
      code: 2,
      err: "keel: unknown flag '--bogus'\n",
    })
    expect((await keel(['openapi', '--out'])).code).toBe(2)
    expect((await keel(['openapi', '--entry', entry, '--out='])).err).toBe('keel: --out needs a file name\n')
  })

  it('looks for app.ts in the working directory without --entry, and says so when there is none', async () => {
    const previous = process.cwd()
    process.chdir(tempDir())
    try {
      const { code, err } = await keel(['openapi'])
      expect(code).toBe(2)
      expect(err).toMatch(/^keel: --entry FILE is needed: there is no app\.ts, src\/app\.ts/)
    } finally {
      process.chdir(previous)
    }
  })

  it('documents its flags in --help and in keel --help', async () => {
    const help = await keel(['openapi', '--help'])
    expect(help.code).toBe(0)
    for (const flag of ['--entry FILE', '--out FILE', '--profile NAME', '--include-internal', '--json'])
      expect(help.out).toContain(flag)
    expect((await keel(['--help'])).out).toMatch(/openapi +write the app's OpenAPI 3\.1 document/)
  })

  it('runs as the real keel bin on the hello example', () => {
    const file = join(tempDir(), 'hello.json')
    const child = spawnSync(
      process.execPath,
      [join(repo, 'bin/keel.mjs'), 'openapi', '--entry', 'examples/hello/app.ts', '--out', file],
      {
        cwd: repo,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    const document = JSON.parse(readFileSync(file, 'utf8'))
    expect(document.info.title).toBe('hello')
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/hello', '/hello/{name}']))
  })
})
