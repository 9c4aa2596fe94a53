import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.ts'
import { cleanEnv, type HttpResult, httpGet } from '../support/service-process.ts'

// `npm run start:hello`, run for real: npm → tsx → node examples/hello/main.ts. npm and tsx
// spawn children, so the test starts npm as the leader of a new process group and signals that
// group (and only it) by its PID.

const repoRoot = join(import.meta.dirname, '..', '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let group: ChildProcess | undefined
afterEach(async () => {
  const leader = group
  group = undefined
  if (leader?.pid !== undefined && groupAlive(leader.pid)) {
    process.kill(-leader.pid, 'SIGKILL')
    await waitUntil(() => !groupAlive(leader.pid!), 5000)
  }
})

/** Whether any process of the group led by `pid` still runs. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (condition()) return true
    await sleep(25)
  }
  return condition()
}

/** GETs `path` until it answers 200 (or the process exits, or `timeoutMs` passes). */
async function getOk(
  port: number,
  path: string,
  exited: () => boolean,
  timeoutMs: number,
): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline && !exited()) {
    try {
      const response = await httpGet(port, path, { timeoutMs: 2000 })
      if (response.status === 200) return response
      last = `${response.status} ${response.body}`
    } catch (error) {
      last = String(error)
    }
    await sleep(100)
  }
  throw new Error(`GET ${path} did not answer 200 (last: ${last})`)
}

describe('examples/hello', () => {
  it('`npm run start:hello` serves /hello/:name and /ready, and the whole process group exits on SIGTERM', async () => {
    const port = await freePort()
    let output = ''
    const child = spawn(npm, ['run', 'start:hello'], {
      cwd: repoRoot,
      env: { ...cleanEnv(), PORT: String(port) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    group = child
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    const exited = new Promise<void>((resolve) =>
      child.once('close', (code, signal) => {
        exit = { code, signal }
        resolve()
      }),
    )
    const pid = child.pid!

    // npm, tsx and the app start in turn: on a loaded machine that can take well over 15 s.
    const hello = await getOk(port, '/hello/world', () => exit !== undefined, 60_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${output}`)
      },
    )
    expect(hello.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(hello.body)).toEqual({ hello: 'world', greetings: 1 })
    expect(JSON.parse((await httpGet(port, '/hello')).body)).toEqual({ hello: 'world' })

    const ready = await getOk(port, '/ready', () => exit !== undefined, 5000)
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'pass',
      state: 'ready',
      checks: [{ name: 'greeter', status: 'pass', critical: true, details: { greetings: 1 } }],
    })
    // The typed route validates its body, the admin group wants the (development) API key, and
    // the API reference is served.
    const url = `http://127.0.0.1:${port}`
    const post = (body: unknown) =>
      fetch(`${url}/greetings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(body),
      })
    const created = await post({ name: 'Ada', language: 'fr' })
    expect([created.status, await created.json()]).toEqual([
      201,
      { id: 1, name: 'Ada', text: 'Bonjour, Ada!' },
    ])
    const invalid = await post({ name: 'Ada', language: 'xx' })
    expect(invalid.status).toBe(400)
    expect(((await invalid.json()) as { errors: unknown }).errors).toEqual([
      { pointer: '/body/language', message: 'expected one of "en", "fr", "de", "es"' },
    ])
    expect((await fetch(`${url}/admin/stats`, { headers: { connection: 'close' } })).status).toBe(401)
    const stats = await fetch(`${url}/admin/stats`, {
      headers: { 'x-api-key': 'keel_dev_hello_admin_key', connection: 'close' },
    })
    expect(await stats.json()).toEqual({ greetings: 2, stored: 1 })
    const openapi = (await (
      await fetch(`${url}/openapi.json`, { headers: { connection: 'close' } })
    ).json()) as { paths: object }
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/greetings', '/hello/{name}', '/admin/stats']),
    )
    expect((await fetch(`${url}/docs`, { headers: { connection: 'close' } })).status).toBe(200)
    // The greeting was logged as JSON (stdout is not a terminal) with its request id.
    expect(output).toMatch(/"service":"hello".*"request_id":"[^"]+".*"msg":"greeting"/)

    process.kill(-pid, 'SIGTERM')
    const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])
    expect(done, output).toBe(true)
    // Every process npm started is gone too, and the service shut down cleanly.
    expect(await waitUntil(() => !groupAlive(pid), 5000)).toBe(true)
    expect(output).toContain('"msg":"app stopped"')
    expect(output).toMatch(/"report":\{"ok":true,"reason":"SIG(TERM|INT)"/)
    expect(output).not.toContain('forcing exit')
    // npm itself dies of the SIGTERM it got; the service under it exited 0 after the report above.
    expect(exit?.code === 0 || exit?.signal === 'SIGTERM', JSON.stringify(exit)).toBe(true)
  }, 120_000)
})
