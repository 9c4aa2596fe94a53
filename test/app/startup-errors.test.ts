import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.ts'
import { type ServiceProcess, stackFrames, startService } from '../support/service-process.ts'

// Bad input at start-up: each case runs the `plain` fixture (service root = working directory)
// in a temporary directory holding the bad keel.yaml, and expects one clear message on stderr
// naming the file/key/variable/port, exit code 1, and no stack trace.

const entry = join(import.meta.dirname, 'fixtures', 'plain', 'main.ts')

const services: ServiceProcess[] = []
const servers: Server[] = []
const roots: string[] = []
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.kill()))
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

/** Runs the service in a fresh root with `yaml` as its keel.yaml; resolves with its stderr once it exits. */
async function failedStart(yaml: string | undefined, env: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'keel-startup-'))
  roots.push(root)
  if (yaml !== undefined) writeFileSync(join(root, 'keel.yaml'), yaml)
  const service = startService(entry, { cwd: root, env: { PORT: String(await freePort()), ...env } })
  services.push(service)
  // node and tsx alone can take 15 s to start on a loaded machine.
  const exit = await service.waitForExit(60_000)
  const stderr = service.stderr
  expect(exit.code, service.output).toBe(1)
  // One message: a single `keel: CODE: …` headline (its problem list may follow), no stack frames.
  expect(stderr, service.output).toMatch(/^keel: KEEL_[A-Z_]+: /)
  expect(stderr.match(/^keel: /gm)).toHaveLength(1)
  expect(stackFrames(stderr)).toEqual([])
  expect(stderr).not.toContain('unexpected error')
  // It never got as far as serving.
  expect(service.records.some((r) => r.msg === 'app ready')).toBe(false)
  return { stderr, root, service }
}

describe('start-up errors (child process)', { timeout: 90_000 }, () => {
  it('bad YAML names the file and line', async () => {
    const { stderr } = await failedStart('service:\n  name: broken\nserver:\n\tport: 3000\n')
    expect(stderr).toMatch(/^keel: KEEL_CONFIG_FILE_UNREADABLE: /)
    expect(stderr).toContain('keel.yaml:4')
    expect(stderr).toContain('invalid YAML')
    expect(stderr).toMatch(/tab/i)
  })

  it('an unknown key names the key with its file line and a did-you-mean hint', async () => {
    const { stderr } = await failedStart('server:\n  prot: 3000\n')
    expect(stderr).toMatch(/^keel: KEEL_CONFIG_INVALID: /)
    expect(stderr).toContain('keel.yaml:2 server.prot: unknown key; did you mean "port"?')
  })

  it('a wrong type in the file names the key and the file line', async () => {
    const { stderr } = await failedStart('shutdown:\n  drainDelayMs: 5000\n  deadlineMs: soon\n')
    expect(stderr).toMatch(/^keel: KEEL_CONFIG_INVALID: /)
    expect(stderr).toMatch(/keel\.yaml:3 shutdown\.deadlineMs: expected integer.*"soon"/)
  })

  it('a wrong type from the environment names the key and the variable', async () => {
    const { stderr } = await failedStart(undefined, { PORT: 'eighty' })
    expect(stderr).toContain('server.port: expected integer 0-65535, got "eighty" (from env PORT)')
  })

  it('lists every bad key in the one message', async () => {
    const { stderr } = await failedStart('server:\n  prot: 3000\nshutdown:\n  deadlineMs: soon\n', {
      KEEL_SHUTDOWN__DRAIN_DELAY_MS: 'later',
    })
    expect(stderr).toContain('config: 3 problems')
    expect(stderr).toContain('server.prot')
    expect(stderr).toContain('shutdown.deadlineMs')
    expect(stderr).toContain('KEEL_SHUTDOWN__DRAIN_DELAY_MS')
  })

  it('a missing ${VAR} names the variable and the key path that uses it', async () => {
    const { stderr } = await failedStart('service:\n  name: ${SERVICE_NAME_FROM_VAULT}\n')
    expect(stderr).toMatch(/^keel: KEEL_CONFIG_MISSING_VAR: /)
    expect(stderr).toContain('keel.yaml:2 service.name')
    expect(stderr).toContain('variable SERVICE_NAME_FROM_VAULT is not set')
  })

  it('a log destination in a missing directory names log.destination and the path', async () => {
    const { stderr } = await failedStart('log:\n  destination: /nonexistent-keel-dir/logs/app.log\n')
    expect(stderr).toMatch(/^keel: KEEL_LOG_DESTINATION: /)
    expect(stderr).toContain(
      'log.destination: cannot open "/nonexistent-keel-dir/logs/app.log" for writing: ENOENT',
    )
  })

  it('a log destination that is a directory names log.destination and the path', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keel-logdir-'))
    roots.push(root)
    mkdirSync(join(root, 'logs'))
    const { stderr } = await failedStart(`log:\n  destination: ${join(root, 'logs')}\n`)
    expect(stderr).toContain(`log.destination: cannot open "${join(root, 'logs')}" for writing: EISDIR`)
  })

  it('a port in use names the port, and the failed start is in the log too', async () => {
    const port = await freePort()
    const occupant = createServer()
    servers.push(occupant)
    await new Promise<void>((resolve, reject) => {
      occupant.once('error', reject)
      occupant.listen(port, '127.0.0.1', resolve)
    })
    const { stderr, service } = await failedStart(undefined, { PORT: String(port) })
    expect(stderr.trim()).toBe(
      `keel: KEEL_PORT_IN_USE: server.port: port ${port} on 127.0.0.1 is already in use`,
    )
    const fatal = service.records.find((r) => r.level === 'fatal')
    expect(fatal).toMatchObject({ code: 'KEEL_PORT_IN_USE' })
    expect(service.records.some((r) => r.msg === 'app stopped')).toBe(true)
  })
})
