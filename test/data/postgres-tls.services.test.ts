import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import { type Db, database, openPostgresDb } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postgresUrl } from '../support/postgres-schemas.ts'
import { testApp } from '../support/test-app.ts'
import { startTlsPostgres, type TlsPostgres } from '../support/tls-postgres.ts'
import { rejection } from './db-contract.ts'

const repo = join(import.meta.dirname, '../..')
let server: TlsPostgres
beforeAll(async () => {
  server = await startTlsPostgres()
}, 60_000)
afterAll(() => server?.stop())

const opened: Db[] = []
const apps: App[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()))
  await Promise.all(opened.splice(0).map((db) => db.close()))
})

async function usesTls(db: Db): Promise<boolean> {
  opened.push(db)
  const [row] = await db.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()')
  return row!.ssl
}

async function connectError(promise: Promise<Db>): Promise<KeelError> {
  const error = (await rejection(promise)) as KeelError
  expect(isKeelError(error), String(error)).toBe(true)
  expect(error.code).toBe('KEEL_DB_CONNECT')
  return error
}

describe('PostgreSQL sslmode', () => {
  it('verify-full with the CA that signed the server: connected over TLS', async () => {
    const db = await openPostgresDb({ url: server.url, sslmode: 'verify-full', sslRootCert: server.caFile })
    expect(await usesTls(db)).toBe(true)
    // The plain socket under TLS is the one counted, and counted down when the pool closes.
    expect(db.openConnections()).toBe(1)
    await db.close()
    expect(db.openConnections()).toBe(0)
  })

  it('verify-full refuses a server signed by another CA, and one only the system CAs would have to trust', async () => {
    const other = await connectError(
      openPostgresDb({ url: server.url, sslmode: 'verify-full', sslRootCert: server.otherCaFile }),
    )
    expect(other.message).toContain('127.0.0.1')
    expect(other.message).toMatch(/certificate/i)
    const system = await connectError(openPostgresDb({ url: server.url, sslmode: 'verify-full' }))
    expect(system.message).toMatch(/certificate/i)
  })

  it('require encrypts without checking the certificate; disable stays in plain text', async () => {
    expect(await usesTls(await openPostgresDb({ url: server.url, sslmode: 'require' }))).toBe(true)
    expect(await usesTls(await openPostgresDb({ url: server.url, sslmode: 'disable' }))).toBe(false)
  })

  it('takes sslmode from the URL when the option is unset, and the option wins over the URL', async () => {
    expect(await usesTls(await openPostgresDb({ url: `${server.url}?sslmode=require` }))).toBe(true)
    expect(
      await usesTls(await openPostgresDb({ url: `${server.url}?sslmode=require`, sslmode: 'disable' })),
    ).toBe(false)
  })

  it('require against a server without TLS fails at open, and prefer falls back to plain text', async () => {
    const error = await connectError(openPostgresDb({ url: postgresUrl, sslmode: 'require' }))
    expect(error.message).toMatch(/TLS connection/)
    expect(error.message).toContain('sslmode require: the server must accept TLS')
    expect(await usesTls(await openPostgresDb({ url: postgresUrl, sslmode: 'prefer', poolSize: 1 }))).toBe(
      false,
    )
  })

  it('names an unreadable root certificate, and refuses one with a mode that would not use it', async () => {
    const missing = await connectError(
      openPostgresDb({ url: server.url, sslmode: 'verify-full', sslRootCert: '/nonexistent/ca.pem' }),
    )
    expect(missing.message).toContain('cannot read the PostgreSQL root certificate /nonexistent/ca.pem')
    const unused = await connectError(
      openPostgresDb({ url: server.url, sslmode: 'require', sslRootCert: server.caFile }),
    )
    expect(unused.message).toContain('only used with sslmode verify-full, not require')
  })

  it('the database module reads data.sslmode and data.sslRootCert from the config', async () => {
    const data = database({ migrations: false })
    const { app } = testApp({
      modules: [data],
      overrides: {
        database: { url: server.url },
        data: { sslmode: 'verify-full', sslRootCert: server.caFile },
      },
    })
    apps.push(app)
    await app.start()
    const [row] = await data.db.query<{ ssl: boolean }>(
      'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    )
    expect(row?.ssl).toBe(true)
  })

  it('the CLI reaches the server with the sslmode and root certificate of the config, as the app does', async () => {
    const cli = (caFile: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [join(repo, 'bin/keel.mjs'), 'audit', 'verify', '--url', server.url],
          {
            cwd: tmpdir(),
            env: {
              PATH: process.env.PATH ?? '',
              HOME: process.env.HOME ?? '',
              TMPDIR: tmpdir(),
              KEEL_DATA__SSLMODE: 'verify-full',
              KEEL_DATA__SSL_ROOT_CERT: caFile,
            },
          },
        )
        let out = ''
        let err = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk
        })
        child.stderr.on('data', (chunk: Buffer) => {
          err += chunk
        })
        child.on('close', (code) => resolve({ code, out, err }))
      })
    // Connected (over TLS: the server's certificate verified): the database simply has no trail.
    const trusted = await cli(server.caFile)
    expect(trusted.out, trusted.err).toContain('no audit trail in postgres://')
    // The same command with a CA that did not sign the server's certificate cannot connect.
    const distrusted = await cli(server.otherCaFile)
    expect(distrusted.code).toBe(1)
    expect(distrusted.err).toMatch(/cannot reach PostgreSQL at .*certificate/i)
  })

  it('refuses an sslmode the config does not know, naming the key and the allowed values', () => {
    expect(() => testApp({ modules: [database()], overrides: { data: { sslmode: 'verify-ca' } } })).toThrow(
      'data.sslmode: expected one of "disable", "prefer", "require", "verify-full", got "verify-ca"',
    )
  })
})
