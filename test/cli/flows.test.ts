import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { flow, type SchematicDocumentDiff, schematicDocument, step } from 'keel/flow'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.ts'
import { Collected } from '../support/cli.ts'
import { order, refund } from './fixtures/flows/orders.ts'

const repo = resolve(import.meta.dirname, '../..')
const entry = 'test/cli/fixtures/flows/orders.ts'
const changedEntry = 'test/cli/fixtures/flows/orders-changed.ts'
const appEntry = 'test/cli/fixtures/flows/app.ts'

async function keel(args: string[], { tty = false } = {}) {
  const out = new Collected()
  out.isTTY = tty
  const err = new Collected()
  const code = await main(args, out, err)
  return { code, out: out.text, err: err.text }
}

/** Runs the real `keel` bin: the exit code a CI sees. */
function keelBin(args: string[]) {
  const child = spawnSync(process.execPath, [join(repo, 'bin/keel.mjs'), ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: child.status, out: child.stdout, err: child.stderr }
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'keel-flows-'))
const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** Writes a schematic document of `flows` to a temporary file and returns its path. */
function documentFile(...flows: { describe(): ReturnType<typeof order.describe> }[]): string {
  const file = join(tempDir(), 'flows.json')
  writeFileSync(file, pretty(schematicDocument(flows.map((f) => f.describe()))))
  return file
}

describe('keel flows export', () => {
  it('writes every exported flow, sorted by name, as pretty JSON to --out', async () => {
    const file = join(tempDir(), 'nested', 'flows.json')
    const { code, out, err } = await keel(['flows', 'export', '--entry', entry, '--out', file])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out).toBe(`wrote ${file}: 2 flows (order ${order.version}, refund ${refund.version})\n`)
    const text = readFileSync(file, 'utf8')
    expect(text).toBe(pretty({ schematicVersion: 1, flows: [order.describe(), refund.describe()] }))
    expect(JSON.parse(text).flows.map((f: { name: string }) => f.name)).toEqual(['order', 'refund'])
  })

  it('writes DIR/flows.json for a directory, the same bytes every time', async () => {
    const dir = tempDir()
    await keel(['flows', 'export', '--entry', entry, '--out', dir])
    const first = readFileSync(join(dir, 'flows.json'), 'utf8')
    await keel(['flows', 'export', '--entry', entry, '--out', `${dir}/again/`])
    expect(readFileSync(join(dir, 'again', 'flows.json'), 'utf8')).toBe(first)
  })

  it('takes the flows an app describes through its modules', async () => {
    const fromApp = await keel(['flows', 'export', '--entry', appEntry])
    const direct = await keel(['flows', 'export', '--entry', entry])
    expect(fromApp.code).toBe(0)
    expect(fromApp.out).toBe(direct.out)
  })

  it('prints the document without --out, one flow with --flow, and a JSON report with --json', async () => {
    const printed = await keel(['flows', 'export', '--entry', entry])
    expect(printed.code).toBe(0)
    expect(JSON.parse(printed.out).schematicVersion).toBe(1)
    const one = await keel(['flows', 'export', '--entry', entry, '--flow', 'refund'])
    expect(one.out).toBe(pretty({ schematicVersion: 1, flows: [refund.describe()] }))
    const file = join(tempDir(), 'flows.json')
    const reported = await keel(['flows', 'export', '--entry', entry, '--out', file, '--json'])
    expect(JSON.parse(reported.out)).toEqual({
      file,
      flows: [
        { name: 'order', version: order.version },
        { name: 'refund', version: refund.version },
      ],
    })
  })

  it('exits 2 naming a --flow the entry does not have', async () => {
    const { code, err } = await keel(['flows', 'export', '--entry', entry, '--flow', 'shipping'])
    expect(code).toBe(2)
    expect(err).toBe(`keel: --flow shipping: ${entry} has no flow of that name (flows: order, refund)\n`)
  })

  it('exits 1 naming an entry that is missing or exports no flows', async () => {
    const missing = await keel(['flows', 'export', '--entry', 'no/such/flows.ts'])
    expect(missing).toMatchObject({ code: 1, err: 'keel: --entry no/such/flows.ts: file not found\n' })
    const file = join(tempDir(), 'empty.mjs')
    writeFileSync(file, 'export const nothing = 1\n')
    const empty = await keel(['flows', 'export', '--entry', file, '--json'])
    expect(empty.code).toBe(1)
    expect(JSON.parse(empty.out)).toEqual({
      error: 'KEEL_ENTRY_INVALID',
      message: `--entry ${file}: exports no flows: neither a built flow nor an app whose modules describe flows`,
    })
  })

  it('exits 1 naming an --out it cannot write, and 2 on bad flags', async () => {
    const blocker = join(tempDir(), 'a-file')
    writeFileSync(blocker, '')
    const blocked = await keel(['flows', 'export', '--entry', entry, '--out', join(blocker, 'flows.json')])
    expect(blocked.code).toBe(1)
    expect(blocked.err).toBe(
      `keel: --out ${join(blocker, 'flows.json')}: cannot write the document: a parent of it is not a directory\n`,
    )
    expect(await keel(['flows', 'export', '--bogus'])).toMatchObject({
      code: 2,
      err: "keel: unknown flag '--bogus'\n",
    })
    expect((await keel(['flows', 'export', '--entry', entry, '--flow='])).err).toBe(
      'keel: --flow needs a flow name\n',
    )
  })
})

describe('keel flows diff', () => {
  it('exits 0 and says so when nothing changed', async () => {
    const a = documentFile(order, refund)
    const b = documentFile(refund, order)
    const { code, out, err } = await keel(['flows', 'diff', a, b])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out).toBe('no drift: 2 flows, the same in both files\n')
  })

  it('exits 1 with a report of breaking changes', async () => {
    const dir = tempDir()
    await keel(['flows', 'export', '--entry', entry, '--out', join(dir, 'old.json')])
    await keel(['flows', 'export', '--entry', changedEntry, '--out', join(dir, 'new.json')])
    const { code, out } = await keel(['flows', 'diff', join(dir, 'old.json'), join(dir, 'new.json')])
    expect(code).toBe(1)
    const changed = (await import('./fixtures/flows/orders-changed.ts')).order
    expect(out).toBe(
      [
        `order ${order.version} → ${changed.version}`,
        '  breaking    step "reserve" output changed: its recorded outputs, of the old schema, replay into the steps after it',
        '              /properties/warehouse: (none) → {"type":"string"}',
        '              /required: ["id","items"] → ["id","items","warehouse"]',
        '  breaking    branch "route" input changed: a resumed run hands it a value recorded under the old definition',
        '              /properties/warehouse: (none) → {"type":"string"}',
        '              /required: ["id","items"] → ["id","items","warehouse"]',
        '  breaking    branch "route" output changed: its recorded outputs, of the old schema, replay into the steps after it',
        '              /properties/warehouse: (none) → {"type":"string"}',
        '              /required: ["id","items"] → ["id","items","warehouse"]',
        '',
        `refund (removed, was ${refund.version})`,
        '  breaking    flow removed: its runs in flight cannot resume: the runner no longer knows the flow',
        '',
        '2 of 2 flows changed: 4 breaking, 0 compatible changes',
        '',
      ].join('\n'),
    )
  })

  it('exits 1 on compatible changes unless --allow-compatible', async () => {
    const first = step('first', (n: number) => n)
    const before = documentFile(flow<number>('count').andThen(first).build())
    const after = documentFile(
      flow<number>('count')
        .andThen(first)
        .andThen(step('audit', (n: number) => n))
        .build(),
    )
    const strict = await keel(['flows', 'diff', before, after])
    expect(strict.code).toBe(1)
    expect(strict.out).toContain('  compatible  step "audit" added: no existing step follows it')
    expect(strict.out).toMatch(
      /1 of 1 flows changed: 0 breaking, 4 compatible changes \(only compatible changes: --allow-compatible accepts them\)\n$/,
    )
    const allowed = await keel(['flows', 'diff', before, after, '--allow-compatible'])
    expect(allowed.code).toBe(0)
    expect(allowed.out).not.toContain('--allow-compatible accepts them')
    expect((await keel(['flows', 'diff', documentFile(refund), after, '--allow-compatible'])).code).toBe(1)
  })

  it('gives the diff as JSON with --json', async () => {
    const before = documentFile(order, refund)
    const after = documentFile(order)
    const { code, out } = await keel(['flows', 'diff', before, after, '--json'])
    expect(code).toBe(1)
    const drift = JSON.parse(out) as SchematicDocumentDiff
    expect(drift.severity).toBe('breaking')
    expect(drift.flows.map((f) => [f.flow, f.severity])).toEqual([
      ['order', 'none'],
      ['refund', 'breaking'],
    ])
  })

  it('colours severities on a terminal only', async () => {
    const before = documentFile(order, refund)
    const after = documentFile(order)
    expect((await keel(['flows', 'diff', before, after], { tty: true })).out).toContain('\x1b[31mbreaking')
    expect((await keel(['flows', 'diff', before, after])).out).not.toContain('\x1b[')
  })

  it('exits 2 naming a file that is missing, not JSON or not a schematic', async () => {
    const good = documentFile(order)
    const dir = tempDir()
    const missing = join(dir, 'missing.json')
    expect(await keel(['flows', 'diff', missing, good])).toMatchObject({
      code: 2,
      out: '',
      err: `keel: ${missing}: file not found\n`,
    })
    const garbled = join(dir, 'garbled.json')
    writeFileSync(garbled, '{ "schematicVersion": 1,')
    const notJson = await keel(['flows', 'diff', good, garbled])
    expect(notJson.code).toBe(2)
    expect(notJson.err).toMatch(new RegExp(`^keel: ${garbled}: not JSON: `))
    const other = join(dir, 'openapi.json')
    writeFileSync(other, '{ "openapi": "3.1.0" }')
    expect(await keel(['flows', 'diff', good, other])).toMatchObject({
      code: 2,
      err: `keel: ${other}: not a flow schematic: schematicVersion is missing\n`,
    })
    const json = await keel(['flows', 'diff', good, other, '--json'])
    expect(JSON.parse(json.out)).toEqual({
      error: 'KEEL_CLI_USAGE',
      message: `${other}: not a flow schematic: schematicVersion is missing`,
    })
    expect(await keel(['flows', 'diff', dir, good])).toMatchObject({
      code: 2,
      err: `keel: ${dir}: it is a directory\n`,
    })
  })

  it('exits 2 without exactly two files', async () => {
    expect(await keel(['flows', 'diff', 'one.json'])).toMatchObject({
      code: 2,
      err: 'keel: flows diff needs two files, OLD.json and NEW.json (got 1)\n',
    })
  })
})

describe('keel flows: help and the real bin', () => {
  it('documents its subcommands and flags', async () => {
    const help = await keel(['flows', '--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('keel flows export')
    expect(help.out).toContain('keel flows diff')
    const exportHelp = await keel(['flows', 'export', '--help'])
    for (const flag of ['--entry FILE', '--out FILE|DIR', '--flow NAME', '--profile NAME', '--json'])
      expect(exportHelp.out).toContain(flag)
    const diffHelp = await keel(['flows', 'diff', '-h'])
    for (const text of ['--allow-compatible', '--json', 'Exit codes: 0 no changes'])
      expect(diffHelp.out).toContain(text)
    expect((await keel(['--help'])).out).toMatch(/flows +export flow schematics/)
    expect((await keel(['flows'])).code).toBe(2)
    expect(await keel(['flows', 'graph'])).toMatchObject({
      code: 2,
      err: 'keel: unknown subcommand "flows graph" (run keel flows --help)\n',
    })
  })

  it('gives a CI the exit codes: 0 the same, 1 breaking, 2 an unreadable file', async () => {
    const dir = tempDir()
    const old = join(dir, 'old.json')
    const now = join(dir, 'new.json')
    expect(keelBin(['flows', 'export', '--entry', entry, '--out', old])).toMatchObject({ code: 0, err: '' })
    expect((await keel(['flows', 'export', '--entry', changedEntry, '--out', now])).code).toBe(0)
    expect(keelBin(['flows', 'diff', old, old])).toMatchObject({
      code: 0,
      out: 'no drift: 2 flows, the same in both files\n',
    })
    const drift = keelBin(['flows', 'diff', old, now])
    expect(drift.code).toBe(1)
    expect(drift.out).toContain('breaking    flow removed')
    expect(keelBin(['flows', 'diff', old, join(dir, 'nope.json')])).toMatchObject({
      code: 2,
      err: `keel: ${join(dir, 'nope.json')}: file not found\n`,
    })
  })
})
