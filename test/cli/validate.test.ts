import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'

const repo = resolve(import.meta.dirname, '../..')
const fixtures = relative(process.cwd(), join(repo, 'test/resources/fixtures'))

async function keel(...args: string[]) {
  return runKeel(args)
}

const temporary: string[] = []
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true })
})

describe('keel validate', () => {
  it('exits 0 with a one-line summary when every resource is valid', async () => {
    const dir = join(fixtures, 'valid')
    expect(await keel('validate', '--dir', dir)).toEqual({
      code: 0,
      out: `2 resources valid in ${dir}: todos, users\n`,
      err: '',
    })
  })

  it('exits 1 printing file:line:col, key path, message and hint per issue, then a count', async () => {
    const result = await keel('validate', '--dir', join(fixtures, 'broken-refs'))
    expect(result.code).toBe(1)
    expect(result.err).toBe('')
    const lines = result.out.trimEnd().split('\n')
    const file = join(fixtures, 'broken-refs/projects.yaml')
    expect(lines).toHaveLength(7)
    expect(lines[0]).toBe(
      `${file}:5:48  fields.owner_id.ref  unknown resource "usres" (did you mean "users"?)`,
    )
    expect(lines[3]).toBe(
      `${file}:8:21  fields.count_id.type  count_id is an integer but users.id is a uuid (make count_id a uuid)`,
    )
    expect(lines[6]).toBe('6 issues in 1 of 3 files')
  })

  it('reports the issues of every file in one run', async () => {
    const result = await keel('validate', '--dir', join(fixtures, 'duplicate'))
    expect(result.code).toBe(1)
    expect(result.out).toContain(
      `${join(fixtures, 'duplicate/b.yaml')}:2:11  resource  resource things is declared twice`,
    )
  })

  it('answers --json with every issue as data', async () => {
    const result = await keel('validate', '--dir', join(fixtures, 'invalid-target'), '--json')
    expect(result.code).toBe(1)
    expect(JSON.parse(result.out)).toEqual({
      valid: false,
      dir: join(fixtures, 'invalid-target'),
      resources: ['todos'],
      files: [join(fixtures, 'invalid-target/todos.yaml'), join(fixtures, 'invalid-target/users.yaml')],
      issues: [
        {
          file: join(fixtures, 'invalid-target/users.yaml'),
          line: 5,
          column: 17,
          path: 'fields.name.type',
          message: 'unknown type "strin"',
          hint: 'did you mean "string"?',
        },
      ],
    })
    const valid = JSON.parse((await keel('validate', '--dir', join(fixtures, 'valid'), '--json')).out)
    expect(valid).toMatchObject({ valid: true, resources: ['todos', 'users'], issues: [] })
  })

  it('exits 2 naming the flag and the path when the directory does not exist', async () => {
    expect(await keel('validate', '--dir', 'no/such/dir')).toEqual({
      code: 2,
      out: '',
      err: 'keel: --dir no/such/dir: the directory does not exist\n',
    })
    const defaulted = await keel('validate')
    expect(defaulted.code).toBe(2)
    expect(defaulted.err).toBe('keel: --dir resources: the directory does not exist\n')
  })

  it('exits 2 on an unknown flag, and 1 on a directory without resource files', async () => {
    const unknown = await keel('validate', '--strict')
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/^keel: unknown flag '--strict'/)
    const empty = mkdtempSync(join(tmpdir(), 'keel-validate-'))
    temporary.push(empty)
    expect(await keel('validate', '--dir', empty)).toEqual({
      code: 1,
      out: `no resource files (*.yaml) in ${empty}\n`,
      err: '',
    })
  })

  it('is listed in keel --help and has its own --help', async () => {
    expect((await keel('--help')).out).toMatch(/\n {2}validate {3}check the resource files/)
    const help = await keel('validate', '--help')
    expect(help.code).toBe(0)
    expect(help.out).toMatch(/^keel validate: check every resource file/)
  })

  it('runs as the real command, reading ./resources by default', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keel-validate-'))
    temporary.push(root)
    cpSync(join(repo, 'test/resources/fixtures/valid'), join(root, 'resources'), { recursive: true })
    const child = spawn(process.execPath, [join(repo, 'bin/keel.mjs'), 'validate'], { cwd: root })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk
    })
    const code = await new Promise<number | null>((done) => child.on('close', done))
    expect({ code, out }).toEqual({ code: 0, out: '2 resources valid in resources: todos, users\n' })
  })
})
