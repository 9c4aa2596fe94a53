import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.ts'

/** A PostgreSQL server of the test's own, with TLS on, and the CA files to trust (or not). */
export interface TlsPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, without sslmode. */
  readonly url: string
  /** PEM of the CA that signed the server's certificate. */
  readonly caFile: string
  /** PEM of an unrelated CA. */
  readonly otherCaFile: string
  stop(): Promise<void>
}

const bin = () => {
  const version = execFileSync('ls', ['/usr/lib/postgresql']).toString().trim().split('\n').sort().at(-1)
  return `/usr/lib/postgresql/${version}/bin`
}

/**
 * Starts a throwaway PostgreSQL with `ssl = on` and a certificate for 127.0.0.1 signed by a CA
 * made here with openssl: the shared test server has TLS off, and sslmode needs both sides real.
 * The server runs as the `postgres` user (initdb refuses root).
 */
export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-pg-tls-'))
  chmodSync(dir, 0o755)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ca = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    )
  ca('ca')
  ca('other-ca')
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  )
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  )
  const pgdata = join(dir, 'pgdata')
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString())
  const sockets = join(dir, 'sockets')
  mkdirSync(pgdata, { mode: 0o700 })
  mkdirSync(sockets, { mode: 0o700 })
  for (const file of ['pgdata', 'sockets', 'server.key', 'server.crt']) {
    chownSync(join(dir, file), uid, gid)
    chmodSync(join(dir, file), 0o700)
  }
  const asPostgres = (command: string, args: string[]) => [
    '-u',
    'postgres',
    '--',
    `${bin()}/${command}`,
    ...args,
  ]
  execFileSync('runuser', asPostgres('initdb', ['-D', pgdata, '-A', 'trust', '-U', 'postgres']), {
    stdio: 'pipe',
  })
  const port = await freePort()
  const server: ChildProcess = spawn(
    'runuser',
    asPostgres('postgres', [
      '-D',
      pgdata,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${sockets}`,
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${join(dir, 'server.crt')}`,
      '-c',
      `ssl_key_file=${join(dir, 'server.key')}`,
    ]),
    { stdio: 'ignore' },
  )
  const ready = () => {
    try {
      execFileSync(`${bin()}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'pipe' })
      return true
    } catch {
      return false
    }
  }
  for (let i = 0; !ready(); i++) {
    if (i > 100 || server.exitCode !== null)
      throw new Error(`the TLS PostgreSQL on port ${port} did not start`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    async stop() {
      const exited = new Promise((resolve) => server.once('exit', resolve))
      execFileSync('runuser', asPostgres('pg_ctl', ['stop', '-D', pgdata, '-m', 'fast']), { stdio: 'pipe' })
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
