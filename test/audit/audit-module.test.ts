import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import { audit } from 'keel/audit'
import { database, openPgliteDb } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { afterEach, describe, expect, it } from 'vitest'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { testApp } from '../support/test-app.ts'

const running: App[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function auditedApp(dataDir: string, verifyOnStart = false) {
  const data = database()
  const auditing = audit({ database: data })
  const { app } = testApp({
    modules: [data, auditing],
    yaml: `data:\n  dataDir: ${JSON.stringify(dataDir)}\naudit:\n  verifyOnStart: ${verifyOnStart}\n`,
  })
  running.push(app)
  return { app, auditing }
}

describe('audit()', () => {
  it('creates the trail on start, counts appends in /metrics and describes its tables', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keel-audit-'))
    dirs.push(dataDir)
    const { app, auditing } = auditedApp(dataDir)
    const { url } = await app.start()
    await Promise.all([1, 2, 3].map((n) => auditing.trail.append({ action: 'login', actor: `user-${n}` })))

    const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    expect(findSamples(samples, 'keel_audit_appends_total').map((s) => s.value)).toEqual([3])
    expect(app.describe().modules).toContainEqual(
      expect.objectContaining({
        name: 'audit',
        audit: { tables: ['keel_audit_entries', 'keel_audit_head'] },
      }),
    )
    expect(await auditing.trail.verify()).toMatchObject({ ok: true, entries: 3 })
  })

  it('commits appends still queued when the app stops, before the database closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keel-audit-'))
    dirs.push(dataDir)
    const { app, auditing } = auditedApp(dataDir)
    await app.start()
    const appends = Array.from({ length: 50 }, (_, n) =>
      auditing.trail.append({ action: 'bulk', data: { n } }),
    )
    await app.stop()
    expect((await Promise.all(appends)).map((e) => e.seq)).toEqual(
      Array.from({ length: 50 }, (_, n) => n + 1),
    )

    const db = await openPgliteDb({ dataDir })
    try {
      expect(await db.query('select count(*)::int as n from keel_audit_entries')).toEqual([{ n: 50 }])
    } finally {
      await db.close()
    }
  })

  it('with audit.verifyOnStart, refuses to start on a chain that was altered, naming the entry', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keel-audit-'))
    dirs.push(dataDir)
    const first = auditedApp(dataDir)
    await first.app.start()
    await first.auditing.trail.append({ action: 'grant', actor: 'admin', subject: 'users/7' })
    await first.auditing.trail.append({ action: 'revoke', actor: 'admin', subject: 'users/7' })
    await first.app.stop()

    const db = await openPgliteDb({ dataDir })
    await db.execute('alter table keel_audit_entries disable trigger keel_audit_append_only')
    await db.query(`update keel_audit_entries set actor = 'someone-else' where seq = 2`)
    await db.close()

    const second = auditedApp(dataDir, true)
    const error = await second.app.start().then(
      () => undefined,
      (e: unknown) => e as KeelError,
    )
    expect(isKeelError(error)).toBe(true)
    expect(error?.message).toContain('the audit chain does not verify at entry 2: entry 2 was altered')
  })

  it('throws KEEL_APP_STATE when the trail is read before the app started', () => {
    const auditing = audit({ database: database() })
    expect(() => auditing.trail).toThrow(expect.objectContaining({ code: 'KEEL_APP_STATE' }))
  })
})
