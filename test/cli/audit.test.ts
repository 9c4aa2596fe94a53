import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { AuditTrail, auditMigrations } from 'keel/audit'
import { migrate, openPgliteDb } from 'keel/data'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'

const repo = resolve(import.meta.dirname, '../..')

async function inProcess(args: string[]) {
  return runKeel(['audit', ...args])
}

/** Runs `fn` on the trail's PGlite directory, closing it after so the CLI can open it. */
async function onDir<T>(dataDir: string, fn: (db: Awaited<ReturnType<typeof openPgliteDb>>) => Promise<T>) {
  const db = await openPgliteDb({ dataDir })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

describe('keel audit verify', () => {
  let dir: string
  let dataDir: string
  let headHash: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-audit-cli-'))
    dataDir = join(dir, 'data')
    headHash = await onDir(dataDir, async (db) => {
      await migrate(db, 'keel_audit', auditMigrations)
      const trail = new AuditTrail(db)
      for (let i = 1; i <= 5; i++) await trail.append({ action: 'pay', actor: `u${i}`, data: { amount: i } })
      return (await trail.head()).hash
    })
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reports an intact chain with its length and head, and exits 0 (the real binary)', async () => {
    const child = spawn(
      process.execPath,
      [join(repo, 'bin/keel.mjs'), 'audit', 'verify', '--data-dir', dataDir],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir() },
      },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk
    })
    const code = await new Promise<number | null>((done) => child.on('close', done))
    expect(code, out).toBe(0)
    expect(out).toBe(`audit chain verifies: 5 entries, head ${headHash} (PGlite ${dataDir})\n`)
  })

  it('names the first entry that does not verify and exits 1; --json says the same', async () => {
    await onDir(dataDir, async (db) => {
      await db.execute('alter table keel_audit_entries disable trigger keel_audit_append_only')
      await db.query(`update keel_audit_entries set data = '{"amount": 300}' where seq = 3`)
    })
    const text = await inProcess(['verify', '--data-dir', dataDir])
    expect(text.code).toBe(1)
    expect(text.out).toBe(
      `audit chain broken at entry 3: entry 3 was altered: its content does not match its hash\n2 entries before it verify (PGlite ${dataDir})\n`,
    )
    const json = await inProcess(['verify', '--data-dir', dataDir, '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.out)).toEqual({
      ok: false,
      entries: 2,
      brokenAt: 3,
      reason: 'entry 3 was altered: its content does not match its hash',
    })
  })

  it('says so when the database has no audit trail, with exit 1', async () => {
    const empty = join(dir, 'empty')
    await onDir(empty, async () => {})
    const result = await inProcess(['verify', '--data-dir', empty])
    expect(result.code).toBe(1)
    expect(result.out).toContain('the table keel_audit_entries does not exist')
  })

  it('exits 2 naming the problem for a missing or unknown subcommand and clashing flags', async () => {
    const cases: [string[], string][] = [
      [[], 'keel audit needs a subcommand: verify'],
      [['check'], 'unknown audit subcommand "check"'],
      [['verify', 'extra'], 'takes no arguments, got "extra"'],
      [
        ['verify', '--url', 'postgres://127.0.0.1/x', '--data-dir', dataDir],
        '--url and --data-dir cannot be combined',
      ],
      [['verify', '--limit', '3'], "unknown flag '--limit'"],
    ]
    for (const [args, message] of cases) {
      const result = await inProcess(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.err).toContain(message)
    }
  })
})
