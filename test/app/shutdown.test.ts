import { Agent } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.ts'
import {
  type HttpError,
  httpGet,
  type LogRecord,
  type ServiceProcess,
  startService,
  waitForReady,
} from '../support/service-process.ts'

// Each test runs a fixture service as a real child process (node --import tsx …/main.ts) on
// 127.0.0.1, signals it by PID and reads its JSON log lines from stdout.

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name, 'main.ts')

const services: ServiceProcess[] = []
const agents: Agent[] = []
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy()
  await Promise.all(services.splice(0).map((service) => service.kill()))
})

/** Starts a fixture on a free port and waits until /ready answers 200. */
async function ready(name: string, env: Record<string, string> = {}) {
  const port = await freePort()
  const service = startService(fixture(name), { env: { PORT: String(port), ...env } })
  services.push(service)
  // A child's start (node, tsx, the app) can take 15 s and more on a loaded machine.
  await waitForReady(service, port, 60_000)
  return { service, port }
}

const keepAliveAgent = (options: { maxSockets?: number } = {}) => {
  const agent = new Agent({ keepAlive: true, ...options })
  agents.push(agent)
  return agent
}

const stateChange = (to: string) => (r: LogRecord) => r.msg === `app ${to}` && r.to === to
const timeOf = (record: LogRecord) => Date.parse(String(record.time))
const errorCode = (error: unknown) => (error as HttpError).code ?? (error as Error).message

/** One request of the load: when it was sent, and how it ended. */
interface Outcome {
  sentAt: number
  path: string
  /** 2xx with a complete body that says `ok: true`. */
  ok: boolean
  status?: number
  connection?: string
  reusedSocket: boolean
  error?: string
}

describe('graceful shutdown (child process)', { timeout: 120_000 }, () => {
  it('SIGTERM under load: no failed request sent before the signal, /ready 503 while draining, exit 0', async () => {
    const deadlineMs = 10_000
    const { service, port } = await ready('slow-service', {
      KEEL_SHUTDOWN__DRAIN_DELAY_MS: '800',
      KEEL_SHUTDOWN__DEADLINE_MS: String(deadlineMs),
    })
    const agent = keepAliveAgent()
    const outcomes: Outcome[] = []
    // Set at the signal: the load goes on for 1.4 s after it.
    let loadUntil = Number.POSITIVE_INFINITY

    // 20 keep-alive clients, each sending one request after another: every third one slow.
    const client = async (id: number) => {
      for (let n = 0; Date.now() < loadUntil && !service.exit; n++) {
        const path = (id + n) % 3 === 0 ? `/slow?ms=${50 + ((id * 37 + n * 53) % 250)}` : '/fast'
        const sentAt = Date.now()
        try {
          const response = await httpGet(port, path, { agent })
          const body = JSON.parse(response.body) as { ok?: boolean }
          outcomes.push({
            sentAt,
            path,
            ok: response.status >= 200 && response.status < 300 && body.ok === true,
            status: response.status,
            connection: String(response.headers.connection),
            reusedSocket: response.reusedSocket,
          })
        } catch (error) {
          const code = errorCode(error)
          outcomes.push({
            sentAt,
            path,
            ok: false,
            error: code,
            reusedSocket: !!(error as HttpError).reusedSocket,
          })
          // The listener has closed: this client is done.
          if (code === 'ECONNREFUSED') return
        }
      }
    }
    const load = Promise.all(Array.from({ length: 20 }, (_, id) => client(id)))

    // At least 600 ms of load and 50 answers (some slow), however slow the machine is today.
    const loadFrom = Date.now()
    const loaded = () => outcomes.length > 50 && outcomes.some((o) => o.path.startsWith('/slow'))
    while ((Date.now() - loadFrom < 600 || !loaded()) && Date.now() - loadFrom < 10_000) await sleep(25)
    const signalAt = Date.now()
    loadUntil = signalAt + 1400
    service.signal('SIGTERM')

    // /ready on a fresh connection every 25 ms until the listener is gone.
    const readyAnswers: Array<{ status: number; type?: string; body: Record<string, unknown> }> = []
    const poll = async () => {
      while (!service.exit && Date.now() < signalAt + deadlineMs) {
        try {
          const response = await httpGet(port, '/ready', { timeoutMs: 2000 })
          readyAnswers.push({
            status: response.status,
            type: response.headers['content-type'] as string | undefined,
            body: JSON.parse(response.body) as Record<string, unknown>,
          })
        } catch (error) {
          if (errorCode(error) === 'ECONNREFUSED') return
        }
        await sleep(25)
      }
    }
    await poll()

    const exit = await service.waitForExit(deadlineMs)
    await load
    const summary = () => JSON.stringify(countBy(outcomes, signalAt))

    expect(exit.code, service.output).toBe(0)
    expect(exit.at - signalAt).toBeLessThan(deadlineMs)

    // Every request sent before the signal got a complete 2xx response: no reset, no refusal.
    const before = outcomes.filter((o) => o.sentAt < signalAt)
    expect(before.length).toBeGreaterThan(50)
    expect(before.some((o) => o.path.startsWith('/slow'))).toBe(true)
    expect(
      before.filter((o) => !o.ok),
      summary(),
    ).toEqual([])

    // A keep-alive socket never failed, before or after the signal; only new connections
    // opened after the listener closed may be refused.
    expect(
      outcomes.filter((o) => !o.ok && o.reusedSocket),
      summary(),
    ).toEqual([])

    // During the drain requests were still served, and every response said Connection: close,
    // including those on keep-alive connections opened before the signal.
    const draining = await service.waitForRecord(stateChange('draining'), 0)
    const duringDrain = outcomes.filter((o) => o.ok && o.sentAt > timeOf(draining))
    expect(duringDrain.length, summary()).toBeGreaterThan(0)
    expect(duringDrain.filter((o) => o.connection !== 'close')).toEqual([])
    expect(duringDrain.some((o) => o.reusedSocket)).toBe(true)
    // Before the drain, keep-alive connections stayed open.
    expect(outcomes.some((o) => o.ok && o.sentAt < signalAt && o.connection === 'keep-alive')).toBe(true)

    // /ready turned 503 (problem details, state draining) at once and never went back to 200.
    const first503 = readyAnswers.findIndex((a) => a.status === 503)
    expect(first503, JSON.stringify(readyAnswers)).toBeGreaterThanOrEqual(0)
    expect(readyAnswers[first503]).toMatchObject({
      type: 'application/problem+json',
      body: { code: 'KEEL_NOT_READY', state: 'draining', status: 503 },
    })
    expect(readyAnswers.slice(first503).filter((a) => a.status !== 503)).toEqual([])

    // The log tells the story: draining, then stopped, every phase ok.
    const stopped = await service.waitForRecord(stateChange('stopped'), 0)
    expect(timeOf(stopped)).toBeGreaterThanOrEqual(timeOf(draining))
    const finished = await service.waitForRecord((r) => r.msg === 'shutdown finished', 0)
    expect(finished.report).toMatchObject({
      ok: true,
      reason: 'SIGTERM',
      phases: [
        { phase: 'drain-delay', status: 'ok' },
        { phase: 'http', status: 'ok' },
        { phase: 'module:warmup', status: 'ok' },
      ],
    })
  })

  it.each([0, 300])(
    'a keep-alive client sending on one socket across the drain (drainDelayMs %i) gets every response, the last with Connection: close',
    async (drainDelayMs) => {
      const { service, port } = await ready('slow-service', {
        KEEL_SHUTDOWN__DRAIN_DELAY_MS: String(drainDelayMs),
      })
      const agent = keepAliveAgent({ maxSockets: 1 })
      const sockets = new Set<Socket>()
      const responses: Array<{ status: number; connection?: string; body: unknown }> = []
      for (let i = 0; i < 100; i++) {
        if (i === 5) {
          // The socket is idle now: this is where Node's server.close() would reset it.
          service.signal('SIGTERM')
          await service.waitForRecord(stateChange('draining'), 15_000)
          await sleep(50)
        }
        const response = await httpGet(port, '/fast', { agent, onSocket: (socket) => sockets.add(socket) })
        responses.push({
          status: response.status,
          connection: response.headers.connection as string | undefined,
          body: JSON.parse(response.body),
        })
        if (response.headers.connection === 'close') break
        await sleep(20)
      }
      expect(sockets.size).toBe(1)
      expect(responses.length).toBeGreaterThan(5)
      for (const response of responses) expect(response).toMatchObject({ status: 200, body: { ok: true } })
      expect(responses.slice(0, 5).map((r) => r.connection)).toEqual(Array(5).fill('keep-alive'))
      expect(responses.at(-1)?.connection).toBe('close')
      const exit = await service.waitForExit(15_000)
      expect(exit.code, service.output).toBe(0)
    },
  )

  it('closes an idle keep-alive connection at its keep-alive timeout and then exits 0', async () => {
    const { service, port } = await ready('slow-service', { KEEL_SERVER__KEEP_ALIVE_TIMEOUT_MS: '400' })
    const socket = connect(port, '127.0.0.1')
    const closed = new Promise<string>((resolve) => {
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        received += chunk
      })
      socket.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code}`))
      socket.on('close', () => resolve(received))
    })
    socket.write('GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await service.waitForRecord((r) => r.msg === 'request completed' && r.url === '/fast', 15_000)
    service.signal('SIGTERM')
    // Neither side sends anything more: the server closes the socket after 400 ms idle.
    const received = await closed
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(received).toMatch(/connection: keep-alive/i)
    const exit = await service.waitForExit(15_000)
    expect(exit.code, service.output).toBe(0)
  })

  it('SIGTERM while a module is still starting: it finishes starting, is stopped, and the exit is 0', async () => {
    const port = await freePort()
    // The warm-up outlasts reading its log line, asking /ready and signalling, even on a loaded machine.
    const service = startService(fixture('slow-service'), { env: { PORT: String(port), WARMUP_MS: '4000' } })
    services.push(service)
    await service.waitForRecord((r) => r.msg === 'warming up', 60_000)
    const ready = await httpGet(port, '/ready')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toMatchObject({ code: 'KEEL_NOT_READY', state: 'starting' })
    service.signal('SIGTERM')
    const exit = await service.waitForExit(20_000)
    expect(exit.code, service.output).toBe(0)
    expect(service.stderr).toBe('')
    expect(service.records.map((r) => r.msg)).not.toContain('app ready')
    // In time order (the final log flush can put a line out of order on stdout).
    const at = (msg: string) => timeOf(service.records.find((r) => r.msg === msg) ?? {})
    expect(at('warmed up')).toBeGreaterThanOrEqual(at('app draining'))
    expect(at('warmup stopped')).toBeGreaterThanOrEqual(at('warmed up'))
    const finished = await service.waitForRecord((r) => r.msg === 'shutdown finished', 0)
    expect(finished.report).toMatchObject({
      ok: true,
      phases: [
        { phase: 'http', status: 'ok' },
        { phase: 'start', status: 'ok' },
        { phase: 'module:warmup', status: 'ok' },
      ],
    })
  })

  it('a second SIGTERM during a long drain forces exit 1 and logs the phase it interrupted', async () => {
    const { service } = await ready('slow-service', {
      KEEL_SHUTDOWN__DRAIN_DELAY_MS: '20000',
      KEEL_SHUTDOWN__DEADLINE_MS: '30000',
    })
    service.signal('SIGTERM')
    await service.waitForRecord(stateChange('draining'), 15_000)
    service.signal('SIGTERM')
    const exit = await service.waitForExit(15_000)
    expect(exit.code, service.output).toBe(1)
    const fatal = service.records.find((r) => r.level === 'fatal')
    expect(fatal, service.output).toMatchObject({ signal: 'SIGTERM', phase: 'drain-delay' })
    expect(fatal?.msg).toBe('second SIGTERM during drain-delay; forcing exit')
    expect(service.records.some(stateChange('stopped'))).toBe(false)
  })

  it('a module whose stop hangs times out at shutdown.moduleTimeoutMs: the rest still stops, exit 1', async () => {
    const { service } = await ready('hanging-stop', {
      KEEL_SHUTDOWN__MODULE_TIMEOUT_MS: '300',
      KEEL_SHUTDOWN__DEADLINE_MS: '10000',
    })
    service.signal('SIGTERM')
    const exit = await service.waitForExit(15_000)
    expect(exit.code, service.output).toBe(1)
    const timedOut = await service.waitForRecord((r) => r.msg === 'shutdown phase module:stuck timed-out', 0)
    expect(timedOut).toMatchObject({
      level: 'error',
      phase: { phase: 'module:stuck', status: 'timed-out', error: 'did not finish within 300 ms' },
    })
    // Modules stop in reverse start order, and a stuck one does not keep the others from stopping.
    // (Ordered by the lines' times: the final log flush can put a line out of order on stdout.)
    const order = [
      'stuck stop called; never finishing',
      'shutdown phase module:stuck timed-out',
      'first stopped',
    ]
    const times = order.map((m) => timeOf(service.records.find((r) => r.msg === m) ?? {}))
    expect(times, service.output).toEqual([...times].sort((a, b) => a - b))
    const finished = await service.waitForRecord((r) => r.msg === 'shutdown finished', 0)
    expect(finished.report).toMatchObject({
      ok: false,
      phases: [
        { phase: 'http', status: 'ok' },
        { phase: 'module:stuck', status: 'timed-out' },
        { phase: 'module:first', status: 'ok' },
      ],
    })
  })

  it('the total shutdown.deadlineMs forces exit 1 and logs the phase that did not finish', async () => {
    const deadlineMs = 700
    const { service } = await ready('hanging-stop', {
      KEEL_SHUTDOWN__MODULE_TIMEOUT_MS: '60000',
      KEEL_SHUTDOWN__DEADLINE_MS: String(deadlineMs),
    })
    const signalAt = Date.now()
    service.signal('SIGTERM')
    const exit = await service.waitForExit(deadlineMs + 15_000)
    expect(exit.code, service.output).toBe(1)
    expect(exit.at - signalAt).toBeGreaterThanOrEqual(deadlineMs - 50)
    const fatal = service.records.find((r) => r.level === 'fatal')
    expect(fatal, service.output).toMatchObject({ phase: 'module:stuck', deadlineMs })
    expect(fatal?.msg).toBe(`shutdown deadline of ${deadlineMs} ms passed during module:stuck; forcing exit`)
  })

  it.each([
    ['throw', 'uncaughtException', 'fixture exception thrown from a timer'],
    ['reject', 'unhandledRejection', 'fixture rejection nobody handled'],
  ])(
    'an uncaught error after start (%s) is logged as fatal with its message, then exit 1',
    async (kind, origin, message) => {
      const { service, port } = await ready('crashing-service')
      const response = await httpGet(port, `/crash?kind=${kind}`)
      expect(response.status).toBe(202)
      const exit = await service.waitForExit(15_000)
      expect(exit.code, service.output).toBe(1)
      const fatal = service.records.find((r) => r.level === 'fatal')
      expect(fatal, service.output).toMatchObject({
        origin,
        msg: `${origin}: shutting down`,
        err: { type: 'Error', message },
      })
      expect(String((fatal?.err as { stack?: string } | undefined)?.stack)).toContain(
        'crashing-service/app.ts',
      )
      // It still shut down in order: draining, then stopped.
      expect(service.records.some(stateChange('draining'))).toBe(true)
      expect(service.records.some(stateChange('stopped'))).toBe(true)
    },
  )
})

/** Counts of outcomes by kind, before and after the signal, for failure messages. */
function countBy(outcomes: Outcome[], signalAt: number) {
  const counts: Record<string, number> = {}
  for (const o of outcomes) {
    const key = `${o.sentAt < signalAt ? 'before' : 'after'}:${o.ok ? 'ok' : (o.error ?? `status ${o.status}`)}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}
